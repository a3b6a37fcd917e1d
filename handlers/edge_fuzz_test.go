package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/config"
	"github.com/assignd/assignd/internal/httpserver"
	"github.com/assignd/assignd/policy"
)

// edgeSIDs are the SID fields of a callback and their patterns, written out
// again here rather than taken from sidFields, so that the fuzz targets
// check the parser against the spec and not against itself.
var edgeSIDs = []struct {
	name     string
	pattern  *regexp.Regexp
	required bool
}{
	{"AccountSid", regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`), true},
	{"WorkspaceSid", regexp.MustCompile(`^WS[0-9a-fA-F]{32}$`), true},
	{"WorkflowSid", regexp.MustCompile(`^WW[0-9a-fA-F]{32}$`), false},
	{"TaskQueueSid", regexp.MustCompile(`^WQ[0-9a-fA-F]{32}$`), false},
	{"TaskSid", regexp.MustCompile(`^WT[0-9a-fA-F]{32}$`), true},
	{"WorkerSid", regexp.MustCompile(`^WK[0-9a-fA-F]{32}$`), true},
	{"ReservationSid", regexp.MustCompile(`^WR[0-9a-fA-F]{32}$`), true},
}

// edgeSeeds are form bodies for both fuzz targets: a valid callback, and
// the hostile inputs of TestHostileInput in small.
func edgeSeeds() []string {
	valid := callbackForm(`{"tier":"gold"}`).Encode()
	return []string{
		valid,
		callbackForm(`{"type":"conference"}`).Encode(),
		"",
		"=&&=",
		valid + "&TaskSid=WT00000000000000000000000000000000",
		valid + "&X=%zz",
		valid + "&X=a;b",
		strings.Replace(valid, "TaskAge=42", "TaskAge=99999999999999999999", 1),
		hostileRawBody(hostileNested(100, false)),
		hostileRawBody(`{"n":1e400}`),
		hostileRawBody("{\"a\":\"\xff\"}"),
		hostileRawBody(`[]`),
		strings.Replace(valid, "ReservationSid=WR", "ReservationSid=%EF%BC%97", 1),
	}
}

// FuzzParseCallback feeds arbitrary form bodies through url.ParseQuery and
// callback.Parse, as the callback handler does. It must never panic; what it
// accepts must be a well-formed callback, and what it refuses must be
// refused with a FieldError naming a field.
func FuzzParseCallback(f *testing.F) {
	for _, s := range edgeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		cb, err := callback.Parse(form)
		if err != nil {
			var fe *callback.FieldError
			_, nameless := form[""]
			if !errors.As(err, &fe) || (fe.Field == "" && !nameless) || fe.Problem == "" {
				t.Fatalf("error %#v is not a FieldError naming a field", err)
			}
			if !strings.HasPrefix(err.Error(), fe.Field+": ") {
				t.Fatalf("error %q does not start with the field", err)
			}
			return
		}
		for name, vs := range form {
			if len(vs) != 1 {
				t.Fatalf("accepted %s given %d times", name, len(vs))
			}
			if cb.Fields[name] != vs[0] {
				t.Fatalf("Fields[%q] = %q, sent %q", name, cb.Fields[name], vs[0])
			}
		}
		if len(cb.Fields) != len(form) {
			t.Fatalf("Fields has %d entries for %d fields", len(cb.Fields), len(form))
		}
		got := map[string]string{
			"AccountSid": cb.AccountSid, "WorkspaceSid": cb.WorkspaceSid, "WorkflowSid": cb.WorkflowSid,
			"TaskQueueSid": cb.TaskQueueSid, "TaskSid": cb.TaskSid, "WorkerSid": cb.WorkerSid,
			"ReservationSid": cb.ReservationSid,
		}
		for _, s := range edgeSIDs {
			v := got[s.name]
			if v != form.Get(s.name) {
				t.Fatalf("%s = %q, sent %q", s.name, v, form.Get(s.name))
			}
			if (s.required || v != "") && !s.pattern.MatchString(v) {
				t.Fatalf("accepted %s %q, which does not match %s", s.name, v, s.pattern)
			}
		}
		for name, n := range map[string]int64{"TaskAge": cb.TaskAge, "TaskPriority": cb.TaskPriority} {
			sent := form.Get(name)
			want, err := int64(0), error(nil)
			if sent != "" {
				want, err = strconv.ParseInt(sent, 10, 64)
			}
			if n < 0 || err != nil || n != want {
				t.Fatalf("%s = %d, sent %q", name, n, sent)
			}
		}
		for name, attrs := range map[string]map[string]any{"TaskAttributes": cb.TaskAttributes, "WorkerAttributes": cb.WorkerAttributes} {
			sent, ok := form[name]
			if !ok || attrs == nil {
				t.Fatalf("accepted without %s", name)
			}
			if sent[0] == "" {
				if len(attrs) != 0 {
					t.Fatalf("empty %s decoded as %v", name, attrs)
				}
				continue
			}
			if !utf8.ValidString(sent[0]) || !json.Valid([]byte(sent[0])) {
				t.Fatalf("accepted %s %q, which is not valid JSON text", name, sent[0])
			}
			if trimmed := bytes.TrimLeft([]byte(sent[0]), " \t\r\n"); trimmed[0] != '{' {
				t.Fatalf("accepted %s %q, which is not a JSON object", name, sent[0])
			}
			if _, err := json.Marshal(attrs); err != nil {
				t.Fatalf("%s decoded into something that does not marshal: %v", name, err)
			}
		}
		in := cb.Input(testClock)
		if in.Task == nil || in.Worker == nil || len(in.Callback) < len(cb.Fields) {
			t.Fatalf("Input lost something: %+v", in)
		}
	})
}

// FuzzAssignmentHandler sends arbitrary bodies with arbitrary content types
// through the real callback handler in development mode. It must never
// panic (the recoverer would answer 500) nor answer any 5xx but the 503 of
// an update-mode decision without an updater; every refusal has a JSON
// error body, every 200 a JSON instruction, and a form body that
// callback.Parse refuses is a 400.
func FuzzAssignmentHandler(f *testing.F) {
	for i, s := range edgeSeeds() {
		f.Add(formContentType, []byte(s))
		if i%4 == 0 {
			f.Add([]string{"application/json", "", "application/x-www-form-urlencoded; charset=utf-8", "multipart/form-data"}[i/4%4], []byte(s))
		}
	}
	pol, err := policy.Parse("test-policy.yaml", []byte(testPolicy))
	if err != nil {
		f.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store := newStore(f, reg)
	store.Set(pol)
	// No Enqueue: update-mode decisions get 503.
	srv, err := New(Options{Store: store, Config: &config.Config{Dev: true}, Registerer: reg, Now: func() time.Time { return testClock }})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+AssignmentPath, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := serve(h, req)
		code, got, ct := rec.Code, rec.Body.Bytes(), rec.Header().Get("Content-Type")
		if ct != "application/json" {
			t.Fatalf("%d with Content-Type %q", code, ct)
		}

		// What the handler should have made of a form body it read.
		var cb *callback.Callback
		var parseErr error
		isForm := false
		if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == formContentType && len(body) <= callback.MaxBodyBytes {
			// The form limits come first, before the form is read.
			if over := overFormLimits(string(body)); over != "" {
				if code != http.StatusRequestEntityTooLarge || string(got) != `{"error":"body is not a valid form: `+over+`"}` {
					t.Fatalf("%d %s for a form with %s", code, got, over)
				}
				return
			}
			if form, err := url.ParseQuery(string(body)); err == nil {
				if _, nameless := form[""]; nameless {
					if code != http.StatusBadRequest || string(got) != `{"error":"body is not a valid form: a field has no name"}` {
						t.Fatalf("%d %s for a form with a nameless field", code, got)
					}
					return
				}
				isForm = true
				cb, parseErr = callback.Parse(form)
			}
		}

		switch {
		case code == http.StatusOK:
			if cb == nil || parseErr != nil {
				t.Fatalf("200 for a body callback.Parse refuses (%v): %q", parseErr, body)
			}
			var instr struct {
				Instruction string `json:"instruction"`
			}
			if err := json.Unmarshal(got, &instr); err != nil || instr.Instruction == "" {
				t.Fatalf("200 with body %q, not a JSON instruction", got)
			}
		case code == http.StatusServiceUnavailable:
			if string(got) != `{"error":"no updater configured"}` {
				t.Fatalf("503 %s", got)
			}
			if cb == nil || parseErr != nil || pol.Decide(cb.Input(testClock)).Mode != policy.Update {
				t.Fatalf("503 for a callback that is not decided in update mode: %q", body)
			}
		case code >= 400 && code < 500:
			var e httpserver.ErrorBody
			if err := json.Unmarshal(got, &e); err != nil || e.Error == "" {
				t.Fatalf("%d with body %q, not a JSON error", code, got)
			}
			if isForm && parseErr == nil && code == http.StatusBadRequest {
				t.Fatalf("400 %s for a callback callback.Parse accepts: %q", got, body)
			}
		default:
			t.Fatalf("status %d %s for %q %q", code, got, contentType, body)
		}
		if isForm && parseErr != nil && code != http.StatusBadRequest {
			t.Fatalf("%d %s for a form callback.Parse refuses with %v", code, got, parseErr)
		}
	})
}

// overFormLimits says how body breaks the form limits, as the handler's
// refusal words it, or returns "" if it does not.
func overFormLimits(body string) string {
	if strings.Count(body, "&")+1 > callback.MaxFormFields {
		return "more than 100 fields"
	}
	for seg := range strings.SplitSeq(body, "&") {
		if name, _, _ := strings.Cut(seg, "="); len(name) > callback.MaxFieldNameBytes {
			return "a field name is longer than 64 bytes"
		}
	}
	return ""
}
