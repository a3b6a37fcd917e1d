package expr

// Refs returns the references the expression reads, in source order, so
// that a caller can decode only the attributes a policy looks at. A table
// reference reads its key's reference, which is listed in its place.
func (e *Expr) Refs() []*Ref {
	var refs []*Ref
	e.root.refs(&refs)
	return refs
}

func (n *node) refs(out *[]*Ref) {
	for _, k := range n.kids {
		k.refs(out)
	}
	for _, o := range []*operand{&n.l, &n.r} {
		if o.ref != nil {
			o.ref.keyRefs(out)
		}
	}
}

// Refs returns the references the template's placeholders read, in order.
func (t *Template) Refs() []*Ref {
	var refs []*Ref
	for _, p := range t.parts {
		if p.ref != nil {
			p.ref.keyRefs(&refs)
		}
	}
	return refs
}

// Root names the document the reference starts in: one of RootTask,
// RootWorker, RootCallback, RootNow, RootTaskRouter, RootCalendar,
// RootExperiment and RootTables. A caller that meets a name it does not
// know must treat the reference as possibly reading anything.
func (r *Ref) Root() string {
	if r.tab != nil {
		return RootTables
	}
	if int(r.root) < len(rootNames) {
		return rootNames[r.root]
	}
	return ""
}

// Key returns the first key after the root: "language" in
// task.language.primary.
func (r *Ref) Key() string {
	if len(r.steps) == 0 {
		return ""
	}
	return r.steps[0].key
}
