package admin

import (
	"strconv"
	"strings"
)

// Sparkline geometry: one x step per minute, a fixed height; the console's
// style sheet scales the SVG to its cell.
const (
	sparkStep   = 2
	sparkHeight = 24
	sparkPad    = 2
)

// sparkline is one rule's decisions per minute as an SVG polyline: Points
// holds one "x,y" pair per minute, oldest first.
type sparkline struct {
	Points string
	Width  int
	Height int
	Max    uint64
	Total  uint64
	Last   uint64
}

// newSparkline scales counts into the box, the busiest minute at the top.
func newSparkline(counts []uint64) sparkline {
	s := sparkline{Width: max(1, (len(counts)-1)*sparkStep), Height: sparkHeight}
	for _, n := range counts {
		s.Max = max(s.Max, n)
		s.Total += n
	}
	if len(counts) > 0 {
		s.Last = counts[len(counts)-1]
	}
	var b strings.Builder
	span := float64(sparkHeight - 2*sparkPad)
	for i, n := range counts {
		y := float64(sparkHeight - sparkPad)
		if s.Max > 0 {
			y -= span * float64(n) / float64(s.Max)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(i * sparkStep))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	s.Points = b.String()
	return s
}

// segment is one part of a stacked bar: its share of the whole, as a
// percentage, and where it starts.
type segment struct {
	Name  string
	Class string
	Count uint64
	X, W  string
}

// stack lays counts side by side as percentages of their sum; empty when
// the sum is 0.
func stack(names, classes []string, counts []uint64) []segment {
	var sum uint64
	for _, n := range counts {
		sum += n
	}
	if sum == 0 {
		return nil
	}
	out := make([]segment, len(counts))
	x := 0.0
	for i, n := range counts {
		w := 100 * float64(n) / float64(sum)
		out[i] = segment{Name: names[i], Class: classes[i], Count: n, X: pct(x), W: pct(w)}
		x += w
	}
	return out
}

// pct formats a percentage for an SVG length.
func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

// percent formats part of whole for reading, "–" when whole is 0.
func percent(part, whole uint64) string {
	if whole == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}
