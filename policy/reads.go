package policy

import (
	"slices"

	"github.com/assignd/assignd/policy/expr"
)

// Reads lists the top-level keys of each input document that a policy's
// conditions and templates read, so that a caller can decode only those:
// Decide on an Input holding just these keys decides as it would on the
// whole documents, because a key that is not read cannot change a decision.
type Reads struct {
	// Task, Worker and Callback are sorted and without repeats.
	Task, Worker, Callback []string
	// All is set when some reference starts at a root Reads does not know;
	// the caller must then pass the documents whole.
	All bool
}

// Reads returns the keys the policy reads. It walks every rule, so callers
// on a hot path should keep the answer for as long as they keep the policy.
func (p *Policy) Reads() Reads {
	var rd Reads
	for i := range p.rules {
		r := &p.rules[i]
		for _, e := range [...]*expr.Expr{r.when, r.workerWhen} {
			if e != nil {
				rd.add(e.Refs())
			}
		}
		if r.dialsContact {
			rd.Worker = append(rd.Worker, "contact_uri")
		}
		for _, rp := range r.params {
			if rp.tmpl != nil {
				rd.add(rp.tmpl.Refs())
			}
		}
	}
	rd.addExperiments(p.experiments)
	for _, keys := range []*[]string{&rd.Task, &rd.Worker, &rd.Callback} {
		slices.Sort(*keys)
		*keys = slices.Compact(*keys)
	}
	return rd
}

// Union returns the keys either rd or o reads: what a caller must decode
// to decide with both policies, as shadow evaluation does.
func (rd Reads) Union(o Reads) Reads {
	u := Reads{All: rd.All || o.All}
	for _, pair := range [][3]*[]string{{&u.Task, &rd.Task, &o.Task}, {&u.Worker, &rd.Worker, &o.Worker}, {&u.Callback, &rd.Callback, &o.Callback}} {
		keys := append(slices.Clone(*pair[1]), *pair[2]...)
		slices.Sort(keys)
		*pair[0] = slices.Compact(keys)
	}
	return u
}

func (rd *Reads) add(refs []*expr.Ref) {
	for _, ref := range refs {
		switch ref.Root() {
		case expr.RootTask:
			rd.Task = append(rd.Task, ref.Key())
		case expr.RootWorker:
			rd.Worker = append(rd.Worker, ref.Key())
		case expr.RootCallback:
			rd.Callback = append(rd.Callback, ref.Key())
		case expr.RootNow, expr.RootTaskRouter, expr.RootCalendar:
			// Clocks and calendars: they read no document.
		case expr.RootExperiment:
			// Its key's reads are added once, by addExperiments.
		default:
			rd.All = true
		}
	}
}
