// Package cli is assignd's commands other than serve: validate, explain
// (with -server, a running replica's policy and outcome counts), test,
// schema, replay, config and version, and serve's command line (ServeFlags).
// Each is a function of its arguments and streams that returns the process's
// exit code; package main dispatches to them. Every command prints its usage
// to stdout and exits 0 on -h; a usage error is one line and a hint on
// stderr, exit 2.
package cli
