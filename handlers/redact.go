package handlers

import (
	"encoding/json"
	"strings"

	"github.com/assignd/assignd/callback"
	"github.com/assignd/assignd/policy"
)

// detail is what the debug "callback detail" line carries of a callback:
// its attributes and its form fields.
type detail struct {
	task, worker map[string]any
	fields       map[string]string
}

// detailOf returns cb's attributes and fields for the debug line. When the
// decision has secret parameters (a SIP password), every attribute value
// and form field that holds one of their rendered values is replaced by
// policy.RedactedValue, as the parameters themselves are: a template may
// have rendered the secret from an attribute. The attribute documents in
// the fields are decoded, redacted and encoded again, so that an escape
// (\u0061 for a) cannot carry the secret past the comparison; assignd
// replay then rebuilds the callback with the redacted value.
func detailOf(cb *callback.Callback, in policy.Instruction) detail {
	task, worker := cb.Attributes()
	secrets := secretValues(in)
	if len(secrets) == 0 {
		return detail{task, worker, cb.Fields}
	}
	d := detail{
		task:   redactValue(task, secrets).(map[string]any),
		worker: redactValue(worker, secrets).(map[string]any),
		fields: make(map[string]string, len(cb.Fields)),
	}
	for k, v := range cb.Fields {
		switch {
		case k == "TaskAttributes" || k == "WorkerAttributes":
			v = redactDocument(v, secrets)
		case holdsAny(v, secrets):
			v = policy.RedactedValue
		}
		d.fields[k] = v
	}
	return d
}

// secretValues returns the non-empty rendered values of in's secret
// parameters.
func secretValues(in policy.Instruction) []string {
	var out []string
	for _, p := range in.Params {
		if s, ok := p.Value.(string); ok && s != "" && policy.IsSecretParam(in.Name, p.Name) {
			out = append(out, s)
		}
	}
	return out
}

// redactDocument is the JSON document doc with every value holding a
// secret redacted; a document that does not decode is redacted whole if
// it holds a secret, escaped or not, and kept otherwise.
func redactDocument(doc string, secrets []string) string {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if holdsAny(doc, secrets) || strings.Contains(doc, `\u`) {
			return policy.RedactedValue
		}
		return doc
	}
	b, err := json.Marshal(redactValue(v, secrets))
	if err != nil {
		return policy.RedactedValue
	}
	return string(b)
}

// redactValue copies v, a decoded JSON value, with every string or number
// that holds a secret replaced by policy.RedactedValue, and every object
// key that does by its position's redaction.
func redactValue(v any, secrets []string) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			if holdsAny(k, secrets) {
				k = policy.RedactedValue
			}
			out[k] = redactValue(e, secrets)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redactValue(e, secrets)
		}
		return out
	case string:
		if holdsAny(v, secrets) {
			return policy.RedactedValue
		}
	case json.Number:
		if holdsAny(string(v), secrets) {
			return policy.RedactedValue
		}
	}
	return v
}

// holdsAny reports whether s contains one of secrets.
func holdsAny(s string, secrets []string) bool {
	for _, x := range secrets {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
