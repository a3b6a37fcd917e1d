package explain

import (
	"strconv"

	"github.com/assignd/assignd/policy/expr"
)

// LookupText renders one table lookup on a line for explain's text output:
// the reference, which names the table, hit or miss, and for a table that
// is not hashed the cell read, e.g.
// `lookup tables.vip[task.from].desk: hit "client:desk1"`. It shows
// what the JSON report's lookups hold, no more.
func LookupText(l expr.Lookup) string {
	s := l.Ref + ": miss"
	if l.Hit {
		s = l.Ref + ": hit"
		switch v := l.Value.(type) {
		case string:
			s += " " + strconv.Quote(v)
		case float64:
			s += " " + strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return "lookup " + s
}
