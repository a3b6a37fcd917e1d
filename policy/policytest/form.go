package policytest

import (
	"bytes"
	"fmt"
	"net/url"
	"time"

	"github.com/assignd/assignd/handlers"
	"github.com/assignd/assignd/policy"
)

// ParseForm reads a captured callback body, form-encoded as TaskRouter
// POSTs it, with serve's own parser and limits (handlers.ParseForm), so that
// what a test, explain or replay accepts, serve accepts. Only the line end a
// file or a terminal adds is dropped: TaskRouter never sends one.
func ParseForm(body []byte) (url.Values, error) {
	return handlers.ParseForm(bytes.TrimRight(body, "\r\n"))
}

// Input parses a callback form with handlers.ParseCallback, as the callback
// handler does, and returns what Decide sees of it at now.
func Input(form url.Values, now time.Time) (*policy.Input, error) {
	cb, err := handlers.ParseCallback(form)
	if err != nil {
		return nil, fmt.Errorf("malformed callback: %w", err)
	}
	return cb.Input(now), nil
}
