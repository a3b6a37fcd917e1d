package reservation

import "github.com/assignd/assignd/reservation/handoff"

// Update is one reservation update for the updater to send over REST:
// handoff.Update, which the callback edge builds without importing this
// package.
type Update = handoff.Update

// Errors Enqueue returns: handoff's, which the callback edge tells apart.
var (
	ErrQueueFull = handoff.ErrQueueFull
	ErrDuplicate = handoff.ErrDuplicate
)
