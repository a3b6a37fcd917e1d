package callback

import (
	"net/url"
	"strings"
	"time"

	"github.com/assignd/assignd/internal/testkit"
)

// The auth tokens the tests sign with.
const (
	testToken     = "0123456789abcdef0123456789abcdef"
	testTokenNext = "fedcba9876543210fedcba9876543210"
)

// callbackForm returns a complete, valid assignment callback with the given
// task attributes JSON.
func callbackForm(taskAttrs string) url.Values { return testkit.CallbackForm(taskAttrs) }

// testClock is the fixed arrival time of the tests' callbacks.
var testClock = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)

// overFormLimits says how body breaks the form limits, as the handler's
// refusal words it, or returns "" if it does not.
func overFormLimits(body string) string {
	if strings.Count(body, "&")+1 > MaxFormFields {
		return "more than 100 fields"
	}
	for seg := range strings.SplitSeq(body, "&") {
		if name, _, _ := strings.Cut(seg, "="); len(name) > MaxFieldNameBytes {
			return "a field name is longer than 64 bytes"
		}
	}
	return ""
}
