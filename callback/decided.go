package callback

import (
	"time"

	"github.com/assignd/assignd/policy"
)

// Decided is one answered callback, as the observers of answered callbacks
// (shadow evaluation, the console's recent decisions) see it. They must be
// quick; they may keep it, since nothing it points to changes once it is
// built.
type Decided struct {
	Callback *Callback
	// Input is what the policy decided on.
	Input  *policy.Input
	Policy *policy.Policy
	// Shadow is the shadow policy that Input was decoded for: Input holds
	// the attribute keys it reads. Nil without one.
	Shadow   *policy.Policy
	Decision *policy.Decision
	// Received is when the callback arrived; Took is how long Decide ran.
	Received time.Time
	Took     time.Duration
	// Repeat is true when the reservation was decided already within the
	// decision memory: a replayed callback, or TaskRouter's retry through
	// the fallback URL. It was answered; observers that count decisions
	// should not count it again.
	Repeat bool
}

// DetailMessage is the message of the debug log line that carries a decided
// callback whole (every form field, the attributes, the arrival time): the
// callback listener writes it and assignd replay reads captured logs by it.
const DetailMessage = "callback detail"
