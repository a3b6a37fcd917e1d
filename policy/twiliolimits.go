package policy

import (
	"strings"

	"github.com/assignd/assignd/policy/expr"
)

// sipMaxTimeout is the longest a dequeue rings a SIP address, in seconds:
// TaskRouter documents 600 for SIP and 999 for every other contact.
const sipMaxTimeout = 600

// isSIP reports whether a contact is a SIP address.
func isSIP(contact string) bool {
	return len(contact) >= len("sip:") && strings.EqualFold(contact[:len("sip:")], "sip:")
}

// ruleParam returns the rule's parameter of that name, or nil.
func (r *rule) param(name string) *ruleParam {
	for i := range r.params {
		if r.params[i].spec.name == name {
			return &r.params[i]
		}
	}
	return nil
}

// checkTwilioLimits refuses what only two parameters together show, and
// warns about deprecated parameters and templates that read worker fields
// the callback does not carry. A dequeue to a literal SIP address with a
// literal timeout above 600 is refused; one whose address or timeout is
// rendered is checked per callback, and a dequeue without to is checked
// against the worker's contact_uri, which TaskRouter then dials.
func (ps *parser) checkTwilioLimits(r *rule) {
	for _, p := range r.params {
		if p.spec.deprecated != "" {
			ps.warnf(p.line, r, "params."+p.spec.name, "%s", p.spec.deprecated)
		}
		if p.tmpl != nil {
			for _, ref := range p.tmpl.Refs() {
				if note := ref.WorkerFieldNote(); note != "" {
					ps.warnf(p.line, r, "params."+p.spec.name, "%s", note)
				}
			}
		}
	}
	if r.instruction != Dequeue {
		return
	}
	to, timeout := r.param("to"), r.param("timeout")
	if timeout == nil || timeout.bad {
		return
	}
	if n, isInt := timeout.value.(int); isInt && n <= sipMaxTimeout {
		return
	}
	switch {
	case to == nil:
		r.dialsContact = true
	case to.tmpl == nil && timeout.tmpl == nil && !to.bad:
		if s, _ := to.value.(string); isSIP(s) {
			ps.errorf(timeout.line, r, "params.timeout", "%d is above %d, the longest TaskRouter rings a SIP address (999 is for other contacts); lower it, or dequeue to a number or client", timeout.value, sipMaxTimeout)
		}
	}
}

// sipTimeout skips a rendered dequeue whose timeout is above what
// TaskRouter allows for the SIP address it dials: its to, or the worker's
// contact_uri when it has none. The address is not quoted: contacts are
// kept out of logs.
func (r *rule) sipTimeout(env *expr.Env, ins Instruction) *Skip {
	t, _ := ins.Get("timeout")
	if n, _ := t.(int); n <= sipMaxTimeout {
		return nil
	}
	contact, from := "", "params.to"
	if v, ok := ins.Get("to"); ok {
		contact, _ = v.(string)
	} else if r.dialsContact && env != nil {
		contact, _ = env.Worker["contact_uri"].(string)
		from = "worker.contact_uri"
	}
	if !isSIP(contact) {
		return nil
	}
	return &Skip{Rule: r.name, Index: r.index, Reason: "invalid",
		Detail: "params.timeout: " + showValue(t) + " is above 600, the longest TaskRouter rings the SIP address in " + from}
}
