package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/decisionlog"
	"github.com/assignd/assignd/policy"
)

// replayMaxLine bounds one log line; a callback detail line is well under
// it, since a callback body is at most callback.MaxBodyBytes.
const replayMaxLine = 4 * callback.MaxBodyBytes

// replayExamples is how many reservation SIDs each change lists.
const replayExamples = 3

// Replay implements "assignd replay": captured callbacks through a live
// and a candidate policy, with what the candidate would change.
func Replay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", "[-policy FILE] -candidate FILE [-format text|json] [-fail-on-change] SOURCE...",
		"A SOURCE is a form-encoded callback body, a directory of them, a file of assignd's JSON log at debug level, or a decision log (ASSIGND_DECISION_LOG).")
	var (
		livePath     = fs.String("policy", "", "the live policy file (required unless every SOURCE is a decision log, whose records name their decisions)")
		failOnChange = fs.Bool("fail-on-change", false, "exit 1 if the candidate would change any decision")
		candPath     = fs.String("candidate", "", "the candidate policy file (required)")
		format       = fs.String("format", "text", "text or json")
		at           = fs.String("now", "", "arrival time, RFC 3339, for form-encoded bodies, which carry none (default: now)")
	)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	switch {
	case *candPath == "":
		return usageError(stderr, "replay", "-candidate is required")
	case fs.NArg() == 0:
		return usageError(stderr, "replay", "no SOURCE given")
	case *format != "text" && *format != "json":
		return usageError(stderr, "replay", "-format must be text or json, not %q", *format)
	}
	rp := &replayer{now: time.Now(), stderr: stderr, groups: map[replayKey]*replayGroup{}}
	if *at != "" {
		var err error
		if rp.now, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(stderr, "replay: -now: %v\n", err)
			return 2
		}
	}
	for _, f := range []struct {
		path string
		dst  **policy.Policy
	}{{*livePath, &rp.live}, {*candPath, &rp.cand}} {
		if f.path == "" {
			continue
		}
		p, err := policy.LoadFile(f.path)
		if err != nil {
			printLoadError(stderr, err)
			return 2
		}
		*f.dst = p
	}
	for _, src := range fs.Args() {
		if err := rp.source(src); err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			return 2
		}
	}
	rep := rp.report()
	if *format == "json" {
		writeIndentedJSON(stdout, rep)
	} else {
		writeReplayText(stdout, rep)
	}
	if *failOnChange && rep.Totals.Params+rep.Totals.Instruction > 0 {
		return 1
	}
	return 0
}

// replayer decides callbacks with both policies and groups the changes.
type replayer struct {
	live, cand *policy.Policy
	now        time.Time
	stderr     io.Writer
	groups     map[replayKey]*replayGroup
	totals     replayTotals
	// logHashes are the policy hashes of the decision log records read.
	logHashes map[string]bool
}

type replayKey struct {
	liveRule, candRule, liveIns, candIns string
	outcome                              policy.Difference
}

type replayGroup struct {
	n    int
	sids []string
}

// source replays one SOURCE: a directory's files in name order, or a file.
func (rp *replayer) source(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("reading source: %w", err)
	}
	if !info.IsDir() {
		return rp.file(path)
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading source: %w", err)
		}
		if d.Type().IsRegular() {
			return rp.file(p)
		}
		return nil
	})
}

// file replays a file of JSON log lines, if it starts with '{', or else
// one form-encoded callback body. It streams: a log of any size is read a
// line at a time, and a body no further than serve would read one.
func (rp *replayer) file(path string) error {
	// Regular files only, with no size limit: a log is streamed a line at
	// a time, a body read no further than serve would read it.
	f, err := policy.OpenRegular(path, "source", -1)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	if first, skipped, err := firstNonSpace(r); err == nil && first == '{' {
		if decisionlog.Sniff(r) {
			return rp.decisionLog(path, r, skipped+1)
		}
		if rp.live == nil {
			return errNoLive
		}
		return rp.logLines(path, r, skipped+1)
	}
	if rp.live == nil {
		return errNoLive
	}
	body, err := io.ReadAll(io.LimitReader(r, callback.MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("reading source: %w", err)
	}
	form, err := callback.Spec{Captured: bytes.TrimLeft(body, " \t\r\n")}.Form()
	if err == nil {
		err = rp.decide(form, rp.now)
	}
	if err != nil {
		rp.malformed(path, 0, err)
	}
	return nil
}

// firstNonSpace peeks past leading white space at r's first other byte,
// leaving it unread, and says how many line ends it passed.
func firstNonSpace(r *bufio.Reader) (first byte, lines int, err error) {
	for {
		b, err := r.Peek(1)
		if err != nil {
			return 0, lines, err
		}
		switch b[0] {
		case '\n':
			lines++
		case ' ', '\t', '\r':
		default:
			return b[0], lines, nil
		}
		r.Discard(1) //nolint:errcheck // Peek saw the byte
	}
}

// logLines replays the "callback detail" lines of an assignd JSON log;
// other lines are counted as skipped.
// Line numbers start at first, the line r starts on.
func (rp *replayer) logLines(path string, r io.Reader, first int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, replayMaxLine)
	for line := first; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l struct {
			Msg      string            `json:"msg"`
			TS       string            `json:"ts"`
			Received string            `json:"received"`
			Fields   map[string]string `json:"fields"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			rp.malformed(path, line, fmt.Errorf("not a JSON log line: %w", err))
			continue
		}
		if l.Msg != callback.DetailMessage {
			rp.totals.SkippedLines++
			continue
		}
		if err := rp.logLine(l.Fields, cmp.Or(l.Received, l.TS)); err != nil {
			rp.malformed(path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// logLine replays one callback detail line's fields, received at ts.
func (rp *replayer) logLine(fields map[string]string, ts string) error {
	if fields == nil {
		return errors.New("fields: missing: log at debug level with this version of assignd")
	}
	var received time.Time
	var err error
	for _, layout := range []string{"2006-01-02T15:04:05.000Z0700", time.RFC3339Nano} {
		if received, err = time.Parse(layout, ts); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("received: %q is not a time", ts)
	}
	form := make(url.Values, len(fields))
	for k, v := range fields {
		form.Set(k, v)
	}
	return rp.decide(form, received)
}

// decide parses one callback, as the server does, and decides it with
// both policies.
func (rp *replayer) decide(form url.Values, received time.Time) error {
	cb, err := callback.Parse(form)
	if err != nil {
		return fmt.Errorf("malformed callback: %w", err)
	}
	in := cb.Input(received)
	ld, cd := rp.live.Decide(in), rp.cand.Decide(in)
	rp.count(&ld, &cd, policy.Compare(&ld, &cd), cb.ReservationSid)
	return nil
}

// count adds one replayed decision to the report: ld the live one, cd the
// candidate's, out how they compare.
func (rp *replayer) count(ld, cd *policy.Decision, out policy.Difference, reservationSid string) {
	rp.totals.Callbacks++
	switch out {
	case policy.Same:
		rp.totals.Same++
		return
	case policy.Params:
		rp.totals.Params++
	default:
		rp.totals.Instruction++
	}
	k := replayKey{ld.Rule, cd.Rule, instructionLabel(ld), instructionLabel(cd), out}
	g := rp.groups[k]
	if g == nil {
		g = &replayGroup{}
		rp.groups[k] = g
	}
	g.n++
	if len(g.sids) < replayExamples {
		g.sids = append(g.sids, reservationSid)
	}
}

// instructionLabel names a decision's instruction, with its mode when that
// is update.
func instructionLabel(d *policy.Decision) string {
	if d.Mode == policy.Update {
		return d.Instruction.Name + " (update)"
	}
	return d.Instruction.Name
}

func (rp *replayer) malformed(path string, line int, err error) {
	rp.totals.Malformed++
	if line > 0 {
		path = fmt.Sprintf("%s:%d", path, line)
	}
	fmt.Fprintf(rp.stderr, "%s: %v (skipped)\n", path, err)
}

// replayReport is replay's output, and its JSON form.
type replayReport struct {
	Live      replayPolicy   `json:"live"`
	Candidate replayPolicy   `json:"candidate"`
	Changes   []replayChange `json:"changes"`
	Totals    replayTotals   `json:"totals"`
}

type replayPolicy struct {
	File string `json:"file"`
	Hash string `json:"hash"`
}

type replayChange struct {
	LiveRule             string            `json:"live_rule"`
	CandidateRule        string            `json:"candidate_rule"`
	LiveInstruction      string            `json:"live_instruction"`
	CandidateInstruction string            `json:"candidate_instruction"`
	Difference           policy.Difference `json:"outcome"`
	Count                int               `json:"count"`
	Reservations         []string          `json:"reservations"`
}

type replayTotals struct {
	Callbacks    int `json:"callbacks"`
	Same         int `json:"same"`
	Params       int `json:"params"`
	Instruction  int `json:"instruction"`
	SkippedLines int `json:"skipped_lines"`
	Malformed    int `json:"malformed"`
	// NotReplayable counts decision log records the candidate cannot
	// decide again, by the field it reads that the record masked, dropped
	// or did not record.
	NotReplayable map[string]int `json:"not_replayable,omitempty"`
}

// report sorts the changes, most frequent first.
func (rp *replayer) report() replayReport {
	live := replayPolicy{"as recorded in the decision log", strings.Join(slices.Sorted(maps.Keys(rp.logHashes)), ",")}
	if rp.live != nil {
		live = replayPolicy{rp.live.File(), rp.live.Hash()}
	}
	rep := replayReport{
		Live:      live,
		Candidate: replayPolicy{rp.cand.File(), rp.cand.Hash()},
		Changes:   []replayChange{},
		Totals:    rp.totals,
	}
	for k, g := range rp.groups {
		rep.Changes = append(rep.Changes, replayChange{k.liveRule, k.candRule, k.liveIns, k.candIns, k.outcome, g.n, g.sids})
	}
	slices.SortFunc(rep.Changes, func(a, b replayChange) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.LiveRule, b.LiveRule), cmp.Compare(a.CandidateRule, b.CandidateRule),
			cmp.Compare(a.LiveInstruction, b.LiveInstruction), cmp.Compare(a.CandidateInstruction, b.CandidateInstruction))
	})
	return rep
}

func writeReplayText(w io.Writer, rep replayReport) {
	fmt.Fprintf(w, "live %s (%s) -> candidate %s (%s)\n", rep.Live.File, rep.Live.Hash, rep.Candidate.File, rep.Candidate.Hash)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range rep.Changes {
		fmt.Fprintf(tw, "  %s -> %s\t%s -> %s\t%s\t%d\t%s\n", c.LiveRule, c.CandidateRule, c.LiveInstruction, c.CandidateInstruction,
			c.Difference, c.Count, strings.Join(c.Reservations, " "))
	}
	tw.Flush()
	t := rep.Totals
	fmt.Fprintf(w, "%d callbacks: %d same, %d other params, %d other instruction; %d log lines skipped, %d malformed\n",
		t.Callbacks, t.Same, t.Params, t.Instruction, t.SkippedLines, t.Malformed)
	for _, field := range slices.Sorted(maps.Keys(t.NotReplayable)) {
		fmt.Fprintf(w, "%d records not replayable: the candidate reads %s\n", t.NotReplayable[field], field)
	}
}
