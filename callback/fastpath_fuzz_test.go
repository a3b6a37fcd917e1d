package callback

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// referenceAttributes is how parseAttributes decoded attributes before its
// fast path: checkJSONObject, then json.Unmarshal, then numbers as
// json.Number.
func referenceAttributes(v string) (map[string]any, error) {
	if v == "" {
		return map[string]any{}, nil
	}
	if err := checkJSONObject([]byte(v), maxAttributeDepth); err != nil {
		return nil, &FieldError{Field: "TaskAttributes", Problem: err.Error()}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, &FieldError{Field: "TaskAttributes", Problem: "is not valid JSON: " + err.Error()}
	}
	// Numbers as json.Number, their text as sent (large
	// integers stay exact): encoding/json's UseNumber.
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	m = nil
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// FuzzAttributesFastPath holds parseAttributes, with its fast path, to the
// same result and the same error as the checks it short-cuts.
func FuzzAttributesFastPath(f *testing.F) {
	for _, s := range []string{
		``, `{}`, ` {"a":1} `, `{"a":"}"}`, `{"a":"\"{["}`, `{"a":"\\"}`, `{"a":"\\\"]"}`,
		`{"a":[1,{"b":[]}]}`, `[]`, `null`, `"x"`, `{} {}`, `{}x`, `{"a":`, `{"a":1}}`,
		`{"a":"]]]]"}`, "{\"a\":\"\xff\"}", "\t\n{\r}", `{"a":1,}`, nested(63), nested(64), nested(100),
		`{"a":"` + strings.Repeat("[", 100) + `"}`, `{` + strings.Repeat(`"`, 3) + `}`,
		`{"a":[` + strings.Repeat("[", 70) + `}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, gotErr := parseAttributes(map[string]string{"TaskAttributes": v}, "TaskAttributes")
		want, wantErr := referenceAttributes(v)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%q: error %v, want %v", v, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, want %#v", v, got, want)
		}
	})
}

// FuzzSIDCheck holds isSID to the regular expression it replaced on the
// hot path.
func FuzzSIDCheck(f *testing.F) {
	for _, s := range []string{
		"WR77777777777777777777777777777777", "WRabcdefABCDEF0123456789abcdef0123", "WR7777777777777777777777777777777",
		"WR777777777777777777777777777777777", "WR7777777777777777777777777777777g", "wr77777777777777777777777777777777",
		"WR77777777777777777777777777777777\n", "", "WR", "AC11111111111111111111111111111111", "WRé7777777777777777777777777777777",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, sf := range sidFields {
			if got, want := isSID(v, sf.prefix), sf.pattern.MatchString(v); got != want {
				t.Fatalf("%s %q: isSID = %v, pattern %s says %v", sf.name, v, got, sf.pattern, want)
			}
		}
	})
}
