package config

import (
	"errors"
	"net/url"
	"strings"
)

// printableURL is raw as an error may quote it: with any password in its
// user info masked, as url.URL.Redacted masks it. A value with user info
// that does not parse is not quoted at all, since where its password ends
// cannot be told.
func printableURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err == nil:
		return u.Redacted()
	case strings.Contains(raw, "@"):
		return "(not shown: it may hold a password)"
	}
	return raw
}

// parseProblem describes why raw does not parse as a URL without quoting
// it: url.Parse's own error quotes the whole value, credentials included.
func parseProblem(raw string, err error) string {
	msg := err.Error()
	if ue, ok := errors.AsType[*url.Error](err); ok {
		msg = ue.Err.Error()
	}
	if strings.Contains(raw, "@") {
		// The inner error may quote a part of the value, the password
		// part included.
		return "does not parse as a URL"
	}
	return "does not parse as a URL: " + msg
}
