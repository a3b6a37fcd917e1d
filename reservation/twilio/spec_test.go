package twilio

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The checker holds every request the fake TaskRouter receives against
// Twilio's own OpenAPI description of TaskRouter v1, vendored beside the
// repository in shared/spec.
const (
	specFile          = "../../../shared/spec/twilio_taskrouter_v1.json"
	specReservationOp = "/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations/{Sid}"
	// Test credentials: twilio-go refuses anything but letters and digits.
	testUser = "SK0123456789abcdef0123456789abcdef"
	testPass = "testsecret0123456789"
)

// specSchema is the part of an OpenAPI schema the checker understands.
type specSchema struct {
	Ref       string                 `json:"$ref"`
	Type      string                 `json:"type"`
	Format    string                 `json:"format"`
	Pattern   string                 `json:"pattern"`
	MinLength *int                   `json:"minLength"`
	MaxLength *int                   `json:"maxLength"`
	Enum      []string               `json:"enum"`
	Items     *specSchema            `json:"items"`
	Props     map[string]*specSchema `json:"properties"`
}

// specOp is the resolved POST operation of the worker reservation.
type specOp struct {
	pathParams map[string]*specSchema
	form       map[string]*specSchema
	security   string
}

var specOnce = sync.OnceValues(specLoad)

func specLoad() (*specOp, error) {
	raw, err := os.ReadFile(specFile)
	if err != nil {
		return nil, err
	}
	var doc struct {
		// A path item also holds servers and x-twilio; only post is decoded.
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas         map[string]*specSchema `json:"schemas"`
			SecuritySchemes map[string]struct {
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	rawPost, ok := doc.Paths[specReservationOp]["post"]
	if !ok {
		return nil, fmt.Errorf("spec has no POST %s", specReservationOp)
	}
	var post struct {
		Parameters []struct {
			Name   string      `json:"name"`
			In     string      `json:"in"`
			Schema *specSchema `json:"schema"`
		} `json:"parameters"`
		RequestBody struct {
			Content map[string]struct {
				Schema *specSchema `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(rawPost, &post); err != nil {
		return nil, err
	}
	var resolve func(s *specSchema) (*specSchema, error)
	resolve = func(s *specSchema) (*specSchema, error) {
		if s == nil {
			return nil, nil
		}
		if s.Ref != "" {
			name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
			target := doc.Components.Schemas[name]
			if !ok || target == nil {
				return nil, fmt.Errorf("unresolvable $ref %q", s.Ref)
			}
			return resolve(target)
		}
		items, err := resolve(s.Items)
		if err != nil {
			return nil, err
		}
		c := *s
		c.Items = items
		return &c, nil
	}
	op := &specOp{pathParams: map[string]*specSchema{}, form: map[string]*specSchema{}}
	for _, p := range post.Parameters {
		if p.In == "path" {
			op.pathParams[p.Name] = p.Schema
		}
	}
	body, ok := post.RequestBody.Content["application/x-www-form-urlencoded"]
	if !ok || body.Schema == nil {
		return nil, fmt.Errorf("POST %s has no form body", specReservationOp)
	}
	for name, s := range body.Schema.Props {
		r, err := resolve(s)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", name, err)
		}
		op.form[name] = r
	}
	op.security = doc.Components.SecuritySchemes["accountSid_authToken"].Scheme
	return op, nil
}

// specCheckRequest reports, as test errors, every way r and its parsed form
// break the spec. It uses t.Errorf only, so a fake server's handler
// goroutine may call it.
func specCheckRequest(t testing.TB, r *http.Request, form url.Values) {
	t.Helper()
	op, err := specOnce()
	if err != nil {
		t.Errorf("loading %s: %v", specFile, err)
		return
	}
	for _, p := range specProblems(op, r, form, testUser, testPass) {
		t.Errorf("request %s %s breaks the spec: %s", r.Method, r.URL.Path, p)
	}
}

// specProblems lists every way a request breaks the operation.
func specProblems(op *specOp, r *http.Request, form url.Values, user, pass string) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if r.Method != http.MethodPost {
		bad("method is %s, not POST", r.Method)
	}
	// The path must match the template segment by segment, each parameter
	// meeting its schema.
	tmpl := strings.Split(specReservationOp, "/")
	got := strings.Split(r.URL.Path, "/")
	if len(got) != len(tmpl) {
		bad("path %q does not match %s", r.URL.Path, specReservationOp)
	} else {
		for i, seg := range tmpl {
			name, isParam := strings.CutPrefix(seg, "{")
			if !isParam {
				if got[i] != seg {
					bad("path segment %q should be %q", got[i], seg)
				}
				continue
			}
			name = strings.TrimSuffix(name, "}")
			s := op.pathParams[name]
			if s == nil {
				bad("path parameter %s is not declared", name)
				continue
			}
			for _, p := range specValue(s, got[i]) {
				bad("path parameter %s: %s", name, p)
			}
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		bad("Content-Type is %q, not application/x-www-form-urlencoded", ct)
	}
	if op.security != "basic" {
		bad("spec security scheme is %q, checker expects basic", op.security)
	}
	if u, p, ok := r.BasicAuth(); !ok {
		bad("no Basic authorization")
	} else if u != user || p != pass {
		bad("Basic credentials are %q/%q, not the configured ones", u, "***")
	}

	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		vals := form[name]
		s, ok := op.form[name]
		if !ok {
			bad("form parameter %s is not declared", name)
			continue
		}
		if s.Type == "array" {
			for _, v := range vals {
				if s.Items != nil {
					for _, p := range specValue(s.Items, v) {
						bad("form parameter %s item %q: %s", name, v, p)
					}
				}
			}
			continue
		}
		if len(vals) != 1 {
			bad("form parameter %s is not an array but has %d values", name, len(vals))
		}
		for _, v := range vals {
			for _, p := range specValue(s, v) {
				bad("form parameter %s=%q: %s", name, v, p)
			}
		}
	}
	return out
}

// specValue lists the ways one value breaks a scalar schema.
func specValue(s *specSchema, v string) []string {
	var out []string
	switch s.Type {
	case "integer":
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			out = append(out, "not an integer")
		}
	case "boolean":
		if v != "true" && v != "false" {
			out = append(out, "not true or false")
		}
	}
	if s.Format == "uri" {
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			out = append(out, "not an absolute URI")
		}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		out = append(out, fmt.Sprintf("not one of %v", s.Enum))
	}
	if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(v) {
		out = append(out, fmt.Sprintf("does not match %s", s.Pattern))
	}
	if s.MinLength != nil && len(v) < *s.MinLength {
		out = append(out, fmt.Sprintf("shorter than %d", *s.MinLength))
	}
	if s.MaxLength != nil && len(v) > *s.MaxLength {
		out = append(out, fmt.Sprintf("longer than %d", *s.MaxLength))
	}
	return out
}

func TestSpecCheckerLoads(t *testing.T) {
	op, err := specOnce()
	if err != nil {
		t.Fatalf("loading %s (CI keeps shared/ beside the repository): %v", specFile, err)
	}
	// A sanity floor: if the operation or its $refs stopped resolving, the
	// checker would accept anything.
	if len(op.form) < 50 || len(op.pathParams) != 3 {
		t.Fatalf("spec resolved to %d form parameters and %d path parameters", len(op.form), len(op.pathParams))
	}
	if got := op.form["ReservationStatus"].Enum; !slices.Contains(got, "accepted") {
		t.Fatalf("ReservationStatus enum not resolved: %v", got)
	}
	if got := op.form["ConferenceStatusCallbackEvent"].Items; got == nil || !slices.Contains(got.Enum, "join") {
		t.Fatalf("ConferenceStatusCallbackEvent items not resolved: %+v", got)
	}
}

// TestSpecCheckerRejects shows that the checker can fail: a checker that
// passes everything would make every request test vacuous.
func TestSpecCheckerRejects(t *testing.T) {
	op, err := specOnce()
	if err != nil {
		t.Fatalf("loading %s: %v", specFile, err)
	}
	const (
		ws = "WS0123456789abcdef0123456789abcdef"
		wk = "WK0123456789abcdef0123456789abcdef"
		wr = "WR0123456789abcdef0123456789abcdef"
	)
	good := url.Values{"ReservationStatus": {"accepted"}}
	req := func(path string, f url.Values, mutate ...func(*http.Request)) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://fake"+path, strings.NewReader(f.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(testUser, testPass)
		for _, m := range mutate {
			m(r)
		}
		return r
	}
	okPath := "/v1/Workspaces/" + ws + "/Workers/" + wk + "/Reservations/" + wr
	if p := specProblems(op, req(okPath, good), good, testUser, testPass); len(p) != 0 {
		t.Fatalf("a good request was refused: %v", p)
	}
	cases := []struct {
		name   string
		path   string
		form   url.Values
		mutate func(*http.Request)
		want   string
	}{
		{"unknown param", okPath, url.Values{"ReservationStatus": {"accepted"}, "ConferenceRecordd": {"true"}}, nil, "ConferenceRecordd is not declared"},
		{"bad enum", okPath, url.Values{"ReservationStatus": {"accept"}}, nil, "not one of"},
		{"bad array enum", okPath, url.Values{"Instruction": {"conference"}, "ConferenceStatusCallbackEvent": {"start", "begin"}}, nil, `item "begin"`},
		{"bad method enum", okPath, url.Values{"Instruction": {"conference"}, "WaitMethod": {"PUT"}}, nil, "WaitMethod"},
		{"bad activity sid", okPath, url.Values{"ReservationStatus": {"rejected"}, "WorkerActivitySid": {"WA123"}}, nil, "does not match"},
		{"bad path sid", "/v1/Workspaces/" + ws + "/Workers/" + wk + "/Reservations/WT0123456789abcdef0123456789abcdef", good, nil, "path parameter Sid"},
		{"task path", "/v1/Workspaces/" + ws + "/Tasks/WT0123456789abcdef0123456789abcdef/Reservations/" + wr, good, nil, `"Tasks" should be "Workers"`},
		{"short path", "/v1/Workspaces/" + ws + "/Workers/" + wk, good, nil, "does not match"},
		{"not an integer", okPath, url.Values{"Instruction": {"call"}, "CallTimeout": {"ten"}}, nil, "not an integer"},
		{"not a boolean", okPath, url.Values{"Instruction": {"call"}, "CallAccept": {"yes"}}, nil, "not true or false"},
		{"not a uri", okPath, url.Values{"Instruction": {"call"}, "CallUrl": {"/relative"}}, nil, "absolute URI"},
		{"repeated scalar", okPath, url.Values{"ReservationStatus": {"accepted", "rejected"}}, nil, "has 2 values"},
		{"content type", okPath, good, func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, "Content-Type"},
		{"no auth", okPath, good, func(r *http.Request) { r.Header.Del("Authorization") }, "no Basic"},
		{"wrong auth", okPath, good, func(r *http.Request) { r.SetBasicAuth(testUser, "other") }, "configured ones"},
		{"method", okPath, good, func(r *http.Request) { r.Method = http.MethodGet }, "not POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m []func(*http.Request)
			if c.mutate != nil {
				m = append(m, c.mutate)
			}
			p := specProblems(op, req(c.path, c.form, m...), c.form, testUser, testPass)
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("problems %q do not mention %q", p, c.want)
			}
		})
	}
}
