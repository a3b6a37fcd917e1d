package expr

import "slices"

// CompileTarget parses src as a TaskRouter target expression, the kind a
// TaskQueue's target_workers or a Workflow target's expression holds: a
// bare key reads the worker's attributes (skills HAS 'support'), and task.
// reads the task's, so that Twilio's own target examples mean here what
// they mean there. Everything else is as Compile; the canonical form
// spells every root out, so it compiles with Compile to the same condition.
func CompileTarget(src string) (*Expr, error) {
	return compile(src, refWorker, nil)
}

// workerFields are the fields TaskRouter's expressions read from the
// worker itself rather than its attributes; the assignment callback
// carries only the SID, as WorkerSid.
var workerFields = []string{"sid", "friendly_name", "activity_sid", "activity_name"}

// workerField makes worker.sid read the callback's WorkerSid, the one
// worker field the assignment callback carries, as TaskRouter's own
// worker.sid does. The canonical text stays worker.sid.
func (r *Ref) workerField() {
	if r.root == refWorker && len(r.steps) == 1 && r.steps[0].key == "sid" {
		r.root = refCallback
		r.steps = []refStep{{key: "WorkerSid", index: -1}}
	}
}

// WorkerFieldNote returns a warning when the reference names a worker
// field that the assignment callback does not carry (friendly_name,
// activity_sid, activity_name), and "" otherwise: TaskRouter reads these
// from the worker, but here they read a worker attribute of that name,
// which is NULL unless the worker's attributes hold one.
func (r *Ref) WorkerFieldNote() string {
	if r.root != refWorker || len(r.steps) != 1 || r.steps[0].key == "sid" || !slices.Contains(workerFields, r.steps[0].key) {
		return ""
	}
	return r.text + " is a worker field that the assignment callback does not carry (it sends only WorkerSid and WorkerAttributes): it reads a worker attribute of that name, NULL unless the worker's attributes hold one"
}
