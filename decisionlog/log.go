package decisionlog

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/assignd/assignd/internal/metric"
)

// DefaultBuffer is how many records may wait for the sink.
const DefaultBuffer = 10000

// Options configure a Log. Sink is required; the rest have defaults.
type Options struct {
	// Sink is ASSIGND_DECISION_LOG: "stdout", "file:/path" or an
	// http(s):// collector URL.
	Sink string
	// MaxMB and MaxFiles rotate a file sink: at MaxMB megabytes the file
	// is renamed and a new one started, and MaxFiles old files are kept.
	MaxMB, MaxFiles int
	// Buffer is how many records may wait; DefaultBuffer when 0.
	Buffer     int
	Logger     *zap.Logger
	Registerer prometheus.Registerer

	// Test seams. Stdout is the stdout sink's writer (os.Stdout when nil);
	// Backoff is the wait before the HTTP sink's retry attempt (1-based)
	// (exponential from 200ms when nil); Client sends the HTTP sink's
	// requests (a client with a 10s timeout when nil).
	Stdout  io.Writer
	Backoff func(attempt int) time.Duration
	Client  *http.Client
}

// item is one record waiting in the buffer: a decision, or an outcome
// when out is set. An outcome is held by pointer, to keep the item, which
// every decision copies into the buffer, small.
type item struct {
	in  Input
	out *Outcome
}

// Log is a running decision log: a bounded buffer and one worker that
// builds records and writes them to the sink. Its methods are safe for
// concurrent use.
type Log struct {
	ch     chan item
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	once   sync.Once

	sink  sink
	name  string
	log   *zap.Logger
	batch int

	// masking is the last policy's masking; enc encodes records into
	// lines, the bytes the batch waiting to be written slices. The worker
	// alone uses them.
	masking *masking
	enc     *lineEncoder
	lines   []byte

	written, dropped, failed    prometheus.Counter
	nWritten, nDropped, nFailed atomic.Uint64
	mu                          sync.Mutex
	lastErr                     string
	lastErrAt, lastOKAt         time.Time
}

// New starts a decision log writing to o.Sink.
func New(o Options) (*Log, error) {
	l, err := newLog(o)
	if err != nil {
		return nil, err
	}
	go l.run(l.sink.flushEvery())
	return l, nil
}

// newLog is New without the worker.
func newLog(o Options) (*Log, error) {
	s, err := openSink(o)
	if err != nil {
		return nil, err
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	l := &Log{
		ch: make(chan item, o.Buffer), stop: make(chan struct{}), done: make(chan struct{}),
		sink: s, name: s.label(), log: o.Logger.Named("decisionlog"), batch: s.batchSize(),
		enc: newLineEncoder(),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	records := metric.CounterVec("assignd_decision_log_records_total",
		"Decision log records by sink and result: written, dropped (the buffer was full or the log closed) or failed (the sink refused them).",
		"sink", "result")
	if o.Registerer != nil {
		if err := metric.Register(o.Registerer, "decision log", records); err != nil {
			return nil, err
		}
	}
	l.written = records.WithLabelValues(l.name, "written")
	l.dropped = records.WithLabelValues(l.name, "dropped")
	l.failed = records.WithLabelValues(l.name, "failed")
	return l, nil
}

// Decision hands one decided callback to the log. It never blocks: when
// the buffer is full, or the log is closed, the record is dropped and
// counted. It allocates nothing.
func (l *Log) Decision(in Input) {
	l.put(item{in: in})
}

// Outcome hands one reservation event to the log, as Decision does; it
// allocates the one Outcome it keeps.
func (l *Log) Outcome(o Outcome) {
	l.put(item{out: &o})
}

func (l *Log) put(it item) {
	if !l.closed.Load() {
		select {
		case l.ch <- it:
			return
		default:
		}
	}
	l.dropped.Inc()
	l.nDropped.Add(1)
}

// drainEvery is how often the worker takes what the buffer holds. The
// worker polls rather than waits on the buffer, so that handing a record
// over never wakes a goroutine: the callback path pays for a channel send
// and nothing else.
const drainEvery = 50 * time.Millisecond

// run is the worker: every drainEvery it builds the buffered records and
// writes them in batches of at most l.batch lines, holding a last partial
// batch back for up to wait when the sink batches.
func (l *Log) run(wait time.Duration) {
	defer close(l.done)
	tick := time.NewTicker(drainEvery)
	defer tick.Stop()
	var batch [][]byte
	var since time.Time // when batch's first line was built
	for {
		stopping := false
		select {
		case <-tick.C:
		case <-l.stop:
			stopping = true
		}
		for n := len(l.ch); n > 0; n-- {
			it := <-l.ch
			if batch = l.add(batch, &it); len(batch) == 1 {
				since = time.Now()
			}
			if len(batch) >= l.batch {
				batch = l.write(batch)
			}
		}
		if len(batch) > 0 && (stopping || wait == 0 || time.Since(since) >= wait) {
			batch = l.write(batch)
		}
		if stopping {
			return
		}
	}
}

// add builds one record and appends its line to batch.
func (l *Log) add(batch [][]byte, it *item) [][]byte {
	var rec Record
	if it.out != nil {
		rec = outcomeRecord(it.out)
	} else {
		if l.masking == nil || l.masking.pol != it.in.Policy {
			l.masking = newMasking(it.in.Policy)
		}
		rec = l.masking.build(&it.in)
	}
	start := len(l.lines)
	lines, err := l.enc.appendLine(l.lines, &rec)
	if err != nil {
		l.fail(1, err)
		return batch
	}
	// A line already in batch keeps the array it was appended to, should
	// lines grow into a new one; the array is reused once written.
	l.lines = lines
	return append(batch, lines[start:len(lines):len(lines)])
}

func outcomeRecord(o *Outcome) Record {
	return Record{
		V: Version, Kind: KindOutcome, Time: o.Received.UTC(),
		ReservationSid: o.ReservationSid, TaskSid: o.TaskSid, WorkerSid: o.WorkerSid, WorkspaceSid: o.WorkspaceSid,
		Rule: o.Rule, Instruction: o.Instruction, EventType: o.EventType, Source: o.Source,
	}
}

// write hands a batch to the sink, counts the result, and returns the
// batch emptied for reuse.
func (l *Log) write(batch [][]byte) [][]byte {
	defer func() { l.lines = l.lines[:0] }()
	if err := l.sink.write(l.ctx, batch); err != nil {
		l.fail(len(batch), err)
		return batch[:0]
	}
	l.written.Add(float64(len(batch)))
	l.nWritten.Add(uint64(len(batch)))
	l.mu.Lock()
	l.lastOKAt = time.Now()
	l.mu.Unlock()
	return batch[:0]
}

// fail counts n records the sink refused. The error names no value of a
// record: sinks report their own failures, and a URL's password is
// removed before it is kept.
func (l *Log) fail(n int, err error) {
	l.failed.Add(float64(n))
	l.nFailed.Add(uint64(n))
	msg := l.sink.scrub(err.Error())
	l.mu.Lock()
	l.lastErr, l.lastErrAt = msg, time.Now()
	l.mu.Unlock()
	l.log.Warn("decision log records not written", zap.String("sink", l.name), zap.Int("records", n), zap.String("error", msg))
}

// Close stops taking records and writes those buffered, within ctx: when
// ctx ends first, a write under way is abandoned and what is left counted
// as failed. It returns ctx's error then, and nil otherwise.
func (l *Log) Close(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		l.closed.Store(true)
		close(l.stop)
		select {
		case <-l.done:
		case <-ctx.Done():
			err = ctx.Err()
			l.cancel()
			<-l.done
		}
		l.cancel()
		// A record handed over while the log closed is counted, not lost.
		for len(l.ch) > 0 {
			<-l.ch
			l.dropped.Inc()
			l.nDropped.Add(1)
		}
		err = errors.Join(err, l.sink.close())
	})
	return err
}

// Health is what the console shows of the decision log.
type Health struct {
	// Sink is "stdout", "file:/path" or the collector's URL without its
	// password.
	Sink     string `json:"sink"`
	Healthy  bool   `json:"healthy"`
	Buffered int    `json:"buffered"`
	Capacity int    `json:"capacity"`
	Written  uint64 `json:"written"`
	Dropped  uint64 `json:"dropped"`
	Failed   uint64 `json:"failed"`
	// LastError is the sink's last failure, LastErrorAt when it was.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Health reports the sink's state: healthy unless its last write failed.
func (l *Log) Health() Health {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Health{
		Sink: l.sink.display(), Healthy: l.lastErrAt.IsZero() || l.lastOKAt.After(l.lastErrAt),
		Buffered: len(l.ch), Capacity: cap(l.ch),
		Written: l.nWritten.Load(), Dropped: l.nDropped.Load(), Failed: l.nFailed.Load(),
		LastError: l.lastErr, LastErrorAt: l.lastErrAt,
	}
}
