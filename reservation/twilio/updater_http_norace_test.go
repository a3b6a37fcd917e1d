//go:build !race

package twilio

import (
	"testing"
	"time"
)

// TestUpdaterTenThousandHTTP is TestUpdaterTenThousand through the real
// twilio-go sender and loopback HTTP, every request checked against the
// spec by the fake TaskRouter. The race detector makes loopback HTTP too
// slow for 10,000 reservations on two cores, so this runs without it;
// .ci/run runs it as its own step.
func TestUpdaterTenThousandHTTP(t *testing.T) {
	randomRun(t, 10000, 10*time.Second, true)
}
