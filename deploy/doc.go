// Package deploy holds no code: it is the home of the tests that check
// assignd's deployment files (the Dockerfile, the Kubernetes manifests under
// kubernetes/ and the Grafana dashboard under grafana/) against the binary
// and the config package, so that they cannot drift apart unnoticed.
package deploy
