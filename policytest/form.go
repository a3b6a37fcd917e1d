package policytest

import (
	"fmt"
	"net/url"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// Input parses a callback form with callback.Parse, as the callback
// handler does, and returns what Decide sees of it at now.
func Input(form url.Values, now time.Time) (*policy.Input, error) {
	cb, err := callback.Parse(form)
	if err != nil {
		return nil, fmt.Errorf("malformed callback: %w", err)
	}
	return cb.Input(now), nil
}
