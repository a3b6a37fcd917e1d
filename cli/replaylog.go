package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/assignd/assignd/decisionlog"
)

// errNoLive refuses a source that needs the live policy when -policy is
// not given.
var errNoLive = errors.New("-policy is required for captured callbacks and debug logs; only decision logs name their decisions")

// decisionLog replays a decision log: each decision record is decided
// again with the candidate from its recorded inputs and compared with the
// decision it records; outcome records are skipped and counted, and a
// record whose masked, dropped or unrecorded inputs the candidate reads is
// counted as not replayable, by the field.
func (rp *replayer) decisionLog(path string, r io.Reader, first int) error {
	dr := decisionlog.NewReader(r, first)
	for {
		e, err := dr.Next()
		var le *decisionlog.LineError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &le):
			rp.malformed(path, le.Line, le.Err)
			continue
		case err != nil:
			return fmt.Errorf("reading %s: %w", path, err)
		case e.Record.Kind != decisionlog.KindDecision:
			rp.totals.SkippedLines++
			continue
		}
		if rp.logHashes == nil {
			rp.logHashes = map[string]bool{}
		}
		rp.logHashes[e.Record.PolicyHash] = true
		var nr *decisionlog.NotReplayable
		if err := e.Replayable(rp.cand); errors.As(err, &nr) {
			if rp.totals.NotReplayable == nil {
				rp.totals.NotReplayable = map[string]int{}
			}
			rp.totals.NotReplayable[nr.Field+" ("+nr.Why+")"]++
			continue
		}
		ld, cd := e.Recorded(), rp.cand.Decide(e.Input())
		rp.count(&ld, &cd, e.Compare(&cd), e.Record.ReservationSid)
	}
}
