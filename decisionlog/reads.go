package decisionlog

import "github.com/assignd/assignd/policy"

// lookups adds the table lookups of one trace step to inputs, and scrubs
// the cells the step quotes as the rest of the record is scrubbed: a cell
// that quotes a masked or dropped value is replaced, and without a
// decision_log section a phone-number-looking cell is masked.
func (m *masking) lookups(inputs *Inputs, sc *scrubber, step *policy.Step) {
	for i := range step.Lookups {
		l := &step.Lookups[i]
		inputs.Tables = append(inputs.Tables, TableRead{Rule: step.Rule, Table: l.Table, Ref: l.Ref, Hit: l.Hit})
		if s, ok := l.Value.(string); ok {
			if !m.declared {
				if v, masked := maskPhones(s, sc); masked {
					l.Value = v
					continue
				}
			}
			l.Value = sc.text(s)
		}
	}
}
