package policy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/assignd/assignd/internal/testkit"
	"github.com/assignd/assignd/policy"
)

// compileSchema compiles policy.Schema with a maintained JSON Schema library,
// which also checks it against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(policy.Schema()))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(policy.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(policy.SchemaID)
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	return s
}

// yamlInstance turns a policy's YAML into the JSON value an editor's YAML
// language server checks against the schema.
func yamlInstance(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// goodPolicies returns every policy in the repository that validate
// accepts: the example, the deployed one, the CLI's and the decide tests'.
func goodPolicies(t *testing.T) map[string][]byte {
	out := map[string][]byte{policy.ExampleName: policy.Example()}
	for _, f := range []string{"../deploy/kubernetes/policy.yaml", "../cli/testdata/cli/example.yaml", "../cli/testdata/cli/sip.yaml"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = src
	}
	for _, f := range testkit.Archives(t, filepath.Join("testdata", "decide")) {
		out[f] = []byte(testkit.Section(t, testkit.ReadArchive(t, f), "policy.yaml"))
	}
	return out
}

func TestSchemaAcceptsGoodPolicies(t *testing.T) {
	s := compileSchema(t)
	for name, src := range goodPolicies(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := policy.Parse(name, src); err != nil {
				t.Fatalf("not a good policy: %v", err)
			}
			if err := s.Validate(yamlInstance(t, src)); err != nil {
				t.Errorf("the schema refuses a policy validate accepts:\n%v", err)
			}
		})
	}
}

// TestSchemaRefusesStructuralProblems checks that what validate refuses for
// its structure (an unknown key, a wrong type, a value outside an enum or a
// range, a missing name or instruction) the schema refuses too. The
// problems only the whole file shows are listed as accepted by the schema,
// so that its limits are known rather than assumed.
func TestSchemaRefusesStructuralProblems(t *testing.T) {
	s := compileSchema(t)
	// The bad policies are the yaml section of their archives.
	read := func(name string) string {
		file := filepath.Join("testdata", "bad", strings.TrimSuffix(name, ".yaml")+".txtar")
		return testkit.Section(t, testkit.ReadArchive(t, file), name)
	}
	const head = "version: 1\nrules:\n"
	tests := []struct {
		name       string
		src        string
		structural bool
	}{
		{"unknown keys at every level", read("unknown-keys.yaml"), true},
		{"a rule without name and one without instruction", read("accept-params-and-missing.yaml"), true},
		{"many problems, enums and types among them", read("many-problems.yaml"), true},
		{"empty file", read("empty.yaml"), true},
		{"unknown mode", head + "  - name: default\n    instruction: accept\n    mode: sometimes\n", true},
		{"unknown instruction", head + "  - name: default\n    instruction: dial\n", true},
		{"unknown parameter", head + "  - name: default\n    instruction: dequeue\n    params: {tiemout: 30}\n", true},
		{"parameter of another instruction", head + "  - name: default\n    instruction: reject\n    params: {url: https://example.com}\n", true},
		{"bool as a word", head + "  - name: default\n    instruction: conference\n    params: {record: maybe}\n", true},
		{"int out of range", head + "  - name: default\n    instruction: dequeue\n    params: {timeout: 1000}\n", true},
		{"int as a word", head + "  - name: default\n    instruction: dequeue\n    params: {timeout: soon}\n", true},
		{"unknown enum value", head + "  - name: default\n    instruction: conference\n    params: {region: moon1}\n", true},
		{"unknown enum list value", head + "  - name: default\n    instruction: dequeue\n    params: {status_callback_event: [rang]}\n", true},
		{"unquoted phone number", head + "  - name: default\n    instruction: dequeue\n    params: {from: +15005550006}\n", true},
		{"malformed SID", head + "  - name: default\n    instruction: reject\n    params: {activity_sid: WA123}\n", true},
		{"bad rule name", head + "  - name: bad name!\n    instruction: accept\n", true},
		{"unknown defaults key", "version: 1\ndefaults: {dial: {}}\nrules:\n  - name: default\n    instruction: accept\n", true},
		{"version 2", "version: 2\nrules:\n  - name: default\n    instruction: accept\n", true},
		{"rules not a list", "version: 1\nrules: {name: default}\n", true},
		{"catch-all not last", read("catch-all-not-last.yaml"), false},
		{"no catch-all", read("no-catch-all.yaml"), false},
		{"catch-all with a template", read("catch-all-template.yaml"), false},
		{"respond-mode conference parameters", read("respond-conference.yaml"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := policy.Parse("bad.yaml", []byte(tt.src)); err == nil {
				t.Fatal("validate accepts it; the table wants policies validate refuses")
			}
			err := s.Validate(yamlInstance(t, []byte(tt.src)))
			switch {
			case tt.structural && err == nil:
				t.Error("the schema accepts a structural problem validate refuses")
			case !tt.structural && err != nil:
				t.Errorf("the schema refuses what only the whole file shows; move it to the structural cases:\n%v", err)
			}
		})
	}
}
