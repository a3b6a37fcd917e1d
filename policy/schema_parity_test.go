package policy_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/tools/txtar"

	"github.com/assignd/assignd/policy"
)

// shippedSchema compiles deploy/policy.schema.json, what editors check
// policies with, by an implementation independent of assignd's own; it is
// policy.Schema's output (compileSchema), as deploy's
// TestPolicySchemaIsCurrent holds too.
func shippedSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	if !bytes.Equal(mustRead(t, filepath.Join("..", "deploy", "policy.schema.json")), policy.Schema()) {
		t.Fatal("deploy/policy.schema.json is not the generated schema; regenerate it: go run . schema > deploy/policy.schema.json")
	}
	return compileSchema(t)
}

// yamlFence is a fenced YAML block of a Markdown file.
var yamlFence = regexp.MustCompile("(?s)```ya?ml\n(.*?)```")

// repositoryPolicies returns every candidate policy in the repository:
// each .yaml file, each .yaml section of a txtar golden file, each YAML
// block of the Markdown documentation, and the embedded example. Which of
// them are policies is validate's to say.
func repositoryPolicies(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{"embedded " + policy.ExampleName: policy.Example()}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		switch ext := filepath.Ext(path); ext {
		case ".yaml", ".yml":
			src, err := os.ReadFile(path)
			out[path] = src
			return err
		case ".txtar":
			a, err := txtar.ParseFile(path)
			if err != nil {
				return err
			}
			for _, f := range a.Files {
				if strings.HasSuffix(f.Name, ".yaml") {
					out[path+":"+f.Name] = f.Data
				}
			}
		case ".md":
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, m := range yamlFence.FindAllSubmatch(src, -1) {
				out[path+"#yaml"+strings.Repeat("'", i)] = m[1]
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAcceptsEveryValidPolicy: every policy in the repository that
// validate accepts, the schema accepts too, and so do the values Twilio's
// own examples use, which validate only warns about.
func TestSchemaAcceptsEveryValidPolicy(t *testing.T) {
	s := shippedSchema(t)
	candidates := repositoryPolicies(t)
	const head = "version: 1\nrules:\n  - name: default\n    instruction: dequeue\n    params: "
	candidates["identity contact"] = []byte(head + "{to: joey, from: \"+15005550006\"}\n")
	candidates["quoted timeout"] = []byte(head + "{timeout: \"30\", from: \"+15005550006\"}\n")
	candidates["number without a plus"] = []byte(head + "{from: \"18001234567\"}\n")
	valid := 0
	for name, src := range candidates {
		if _, err := policy.Parse(name, src); err != nil {
			continue // not a policy, or a bad one: TestSchemaRefusesWhatValidateRefuses
		}
		valid++
		if err := s.Validate(yamlInstance(t, src)); err != nil {
			t.Errorf("%s: the shipped schema refuses a policy validate accepts:\n%v", name, err)
		}
	}
	for _, must := range []string{"embedded " + policy.ExampleName, "../deploy/kubernetes/policy.yaml", "../README.md#yaml", "identity contact", "quoted timeout", "number without a plus"} {
		if src, ok := candidates[must]; !ok {
			t.Errorf("%s was not checked", must)
		} else if _, err := policy.Parse(must, src); err != nil {
			t.Errorf("%s is not a valid policy: %v", must, err)
		}
	}
	if valid < 10 {
		t.Errorf("only %d valid policies found in the repository", valid)
	}
}

// TestSchemaRefusesWhatValidateRefuses: structural problems the schema can
// see are refused by both.
func TestSchemaRefusesWhatValidateRefuses(t *testing.T) {
	s := shippedSchema(t)
	const head = "version: 1\nrules:\n  - name: default\n"
	for name, src := range map[string]string{
		"unknown key":           head + "    instruction: accept\n    colour: red\n",
		"unknown instruction":   head + "    instruction: dial\n",
		"unknown parameter":     head + "    instruction: dequeue\n    params: {tiemout: 30}\n",
		"timeout out of range":  head + "    instruction: dequeue\n    params: {timeout: 1000}\n",
		"timeout as a word":     head + "    instruction: dequeue\n    params: {timeout: soon}\n",
		"unquoted phone number": head + "    instruction: dequeue\n    params: {from: +15005550006}\n",
		"contact with a space":  head + "    instruction: dequeue\n    params: {from: \"+1 500 555 0006\"}\n",
		"empty contact":         head + "    instruction: dequeue\n    params: {to: \"\"}\n",
		"no rules":              "version: 1\nrules: []\n",
		"version 2":             "version: 2\nrules:\n  - name: default\n    instruction: accept\n",
	} {
		if _, err := policy.Parse(name, []byte(src)); err == nil {
			t.Errorf("%s: validate accepts it", name)
		}
		if err := s.Validate(yamlInstance(t, []byte(src))); err == nil {
			t.Errorf("%s: the shipped schema accepts it", name)
		}
	}
}

// TestShippedPoliciesNameTheSchema: the policies assignd ships carry the
// yaml-language-server line, so that an editor checks them as they are
// edited.
func TestShippedPoliciesNameTheSchema(t *testing.T) {
	line := "# yaml-language-server: $schema=" + policy.SchemaID + "\n"
	// The Helm chart's policy is a block in values.yaml, indented.
	for name, src := range map[string][]byte{
		"deploy/kubernetes/policy.yaml":       mustRead(t, "../deploy/kubernetes/policy.yaml"),
		"deploy/overlays/example/policy.yaml": mustRead(t, "../deploy/overlays/example/policy.yaml"),
		"deploy/helm/assignd/values.yaml":     mustRead(t, "../deploy/helm/assignd/values.yaml"),
		"the embedded example":                policy.Example(),
	} {
		if !bytes.Contains(src, []byte(line)) {
			t.Errorf("%s lacks %q", name, line)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
