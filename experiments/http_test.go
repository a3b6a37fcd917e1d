package experiments

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/assignd/assignd/outcome"
)

func fixedSource(t *testing.T) (func(float64) *Report, *[]float64) {
	var asked []float64
	counts := []Counts{
		{Experiment: "vip_conference", Arm: "control", Decisions: 100, Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: 80, outcome.Timeout: 20}},
		{Experiment: "vip_conference", Arm: "treatment", Decisions: 25, Outcomes: map[outcome.Outcome]uint64{outcome.Accepted: 22, outcome.Timeout: 3}},
	}
	return func(mde float64) *Report { asked = append(asked, mde); return Build(counts, mde) }, &asked
}

func TestHandler(t *testing.T) {
	src, asked := fixedSource(t)
	h := Handler(src)
	for _, tc := range []struct {
		method, query string
		code          int
		ctype, body   string
		mde           float64
	}{
		{"GET", "", 200, "application/json", `"mde": 0.02`, 0.02},
		{"GET", "?mde=0.05", 200, "application/json", `"mde": 0.05`, 0.05},
		{"GET", "?format=text", 200, "text/plain; charset=utf-8", "experiment vip_conference", 0.02},
		{"GET", "?mde=2", 400, "", "not a proportion", 0},
		{"GET", "?format=xml", 400, "", `format "xml"`, 0},
		{"POST", "", 405, "", "method not allowed", 0},
	} {
		*asked = nil
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(tc.method, Path+tc.query, nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) ||
			(tc.ctype != "" && rec.Header().Get("Content-Type") != tc.ctype) {
			t.Errorf("%s %s: %d %q\n%s", tc.method, tc.query, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		if tc.code == 200 && (len(*asked) != 1 || (*asked)[0] != tc.mde) {
			t.Errorf("%s %s: source asked for mde %v, want %v", tc.method, tc.query, *asked, tc.mde)
		}
	}
}

// TestRunExperiment runs the CLI against a server that serves Handler:
// the text and JSON it prints are the report's own.
func TestRunExperiment(t *testing.T) {
	src, asked := fixedSource(t)
	mux := http.NewServeMux()
	mux.Handle(Path, Handler(src))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var out, errOut bytes.Buffer
	if code := RunExperiment([]string{"-server", srv.URL + "/", "-mde", "0.03"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var want bytes.Buffer
	_ = src(0.03).WriteText(&want)
	if out.String() != want.String() {
		t.Errorf("text:\n%s\nwant:\n%s", out.String(), want.String())
	}
	if (*asked)[0] != 0.03 {
		t.Errorf("server asked for mde %v", (*asked)[0])
	}

	out.Reset()
	if code := RunExperiment([]string{"-server", srv.URL, "-format", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || !bytes.Equal(out.Bytes(), src(DefaultMDE).JSON()) {
		t.Errorf("json output (%v):\n%s", err, out.String())
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "assignd experiment: -server is required\nrun 'assignd experiment -h' for usage\n"},
		{[]string{"-server", srv.URL, "-format", "yaml"}, 2, "-format must be text or json"},
		{[]string{"-server", srv.URL, "-mde", "0"}, 2, "not a proportion"},
		{[]string{"-server", srv.URL + "/nothing-here"}, 1, "404"},
		{[]string{"-server", "http://127.0.0.1:1"}, 1, "fetching the report"},
	} {
		errOut.Reset()
		if code := RunExperiment(tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
