// Package docs holds assignd's documentation pages and the tests that keep
// them true: every shell example that runs assignd is executed against the
// built binary and its output compared with the one shown, every policy
// snippet is validated, every relative link resolves, and the pages under
// reference/ are regenerated from the code and compared.
//
// `go test ./docs -update` rewrites the shown outputs and the reference
// pages from the real ones; review the diff before committing it.
package docs
