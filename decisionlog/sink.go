package decisionlog

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Sink is a parsed ASSIGND_DECISION_LOG value.
type Sink struct {
	// Kind is "stdout", "file" or "http", the sink label of the metrics.
	Kind string
	// Path is a file sink's file.
	Path string
	// URL is an http sink's collector, credentials included.
	URL *url.URL
}

// ParseSink checks an ASSIGND_DECISION_LOG value. Its errors never quote
// a URL, which may hold a password.
func ParseSink(s string) (Sink, error) {
	switch {
	case s == "stdout":
		return Sink{Kind: "stdout"}, nil
	case strings.HasPrefix(s, "file:"):
		path := strings.TrimPrefix(s, "file:")
		if path == "" {
			return Sink{}, errors.New("file: needs a path, as in file:/var/log/assignd/decisions.jsonl")
		}
		return Sink{Kind: "file", Path: path}, nil
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return Sink{}, errors.New("is not a valid http(s) URL (the value is not shown: it may hold a password)")
		}
		if u.Fragment != "" {
			return Sink{}, errors.New("a collector URL must not have a fragment")
		}
		return Sink{Kind: "http", URL: u}, nil
	}
	return Sink{}, errors.New("must be stdout, file:/path or an http(s):// collector URL")
}

// sink writes batches of record lines, each ending in a newline.
type sink interface {
	write(ctx context.Context, batch [][]byte) error
	close() error
	// label is the metrics' sink label; display what people see.
	label() string
	display() string
	// scrub removes what must not be shown from an error message.
	scrub(msg string) string
	// batchSize is the most lines written at once; flushEvery how long a
	// batch may wait to fill, 0 for not at all.
	batchSize() int
	flushEvery() time.Duration
}

func openSink(o Options) (sink, error) {
	s, err := ParseSink(o.Sink)
	if err != nil {
		return nil, fmt.Errorf("ASSIGND_DECISION_LOG: %w", err)
	}
	switch s.Kind {
	case "stdout":
		w := o.Stdout
		if w == nil {
			w = os.Stdout
		}
		return &writerSink{w: w, kind: "stdout", shown: "stdout"}, nil
	case "file":
		maxMB, maxFiles := o.MaxMB, o.MaxFiles
		if maxMB <= 0 {
			maxMB = 100
		}
		lj := &lumberjack.Logger{Filename: s.Path, MaxSize: maxMB, MaxBackups: maxFiles}
		return &writerSink{w: lj, closer: lj, kind: "file", shown: "file:" + s.Path}, nil
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	backoff := o.Backoff
	if backoff == nil {
		backoff = func(attempt int) time.Duration { return min(200*time.Millisecond<<(attempt-1), 5*time.Second) }
	}
	return &httpSink{url: s.URL, client: client, backoff: backoff}, nil
}

// writeChunk is the most a writerSink writes at once, unless one line is
// longer.
const writeChunk = 64 << 10

// writerSink writes lines to stdout or a file rotated by lumberjack, in
// chunks of whole lines: lumberjack rotates before a write that would
// overflow the file, so a line is never split across two files.
type writerSink struct {
	w           io.Writer
	closer      io.Closer
	kind, shown string
	buf         []byte
}

func (s *writerSink) write(_ context.Context, batch [][]byte) error {
	s.buf = s.buf[:0]
	for _, line := range batch {
		if len(s.buf) > 0 && len(s.buf)+len(line) > writeChunk {
			if _, err := s.w.Write(s.buf); err != nil {
				return fmt.Errorf("writing records: %w", err)
			}
			s.buf = s.buf[:0]
		}
		s.buf = append(s.buf, line...)
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("writing records: %w", err)
	}
	return nil
}

func (s *writerSink) close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

func (s *writerSink) label() string             { return s.kind }
func (s *writerSink) display() string           { return s.shown }
func (s *writerSink) scrub(msg string) string   { return msg }
func (s *writerSink) batchSize() int            { return 256 }
func (s *writerSink) flushEvery() time.Duration { return 0 }

// httpAttempts bounds the tries of one batch to a collector.
const httpAttempts = 4

// httpSink POSTs batches to a collector as gzipped JSON lines, retrying a
// failure that may pass (a transport error, 408, 429 or 5xx) after a
// back-off, a bounded number of times.
type httpSink struct {
	url     *url.URL
	client  *http.Client
	backoff func(attempt int) time.Duration
}

func (s *httpSink) write(ctx context.Context, batch [][]byte) error {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	for _, line := range batch {
		zw.Write(line) //nolint:errcheck // a bytes.Buffer does not fail
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing records: %w", err)
	}
	var err error
	for attempt := 1; attempt <= httpAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(s.backoff(attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("posting records: %w (after %v)", ctx.Err(), err)
			case <-t.C:
			}
		}
		var retry bool
		if retry, err = s.post(ctx, body.Bytes()); err == nil || !retry {
			return err
		}
	}
	return fmt.Errorf("posting records: giving up after %d attempts: %w", httpAttempts, err)
}

// post sends one attempt and says whether a failure is worth retrying.
func (s *httpSink) post(ctx context.Context, body []byte) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url.String(), bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("posting records: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := s.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("posting records: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // drained for reuse only
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return true, fmt.Errorf("posting records: collector answered %s", resp.Status)
	default:
		return false, fmt.Errorf("posting records: collector refused them: %s", resp.Status)
	}
}

func (s *httpSink) close() error              { return nil }
func (s *httpSink) label() string             { return "http" }
func (s *httpSink) display() string           { return s.url.Redacted() }
func (s *httpSink) batchSize() int            { return 500 }
func (s *httpSink) flushEvery() time.Duration { return time.Second }

// scrub removes the URL's password, which net/http's errors already leave
// out; this holds even if one did not.
func (s *httpSink) scrub(msg string) string {
	if pw, ok := s.url.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(pw), "xxxxx")
	}
	return msg
}
