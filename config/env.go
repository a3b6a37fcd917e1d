package config

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Var is one environment variable Config reads, as its struct tags
// describe it: the one list of assignd's variables.
type Var struct {
	// Name is the variable, from the envconfig tag.
	Name string
	// Default is the default tag, "" for none.
	Default string
	// Desc is the one-line meaning, from the desc tag.
	Desc string
	// Secret is whether the value is never shown, from the secret tag
	// "true".
	Secret bool
	// Userinfo is whether the value is a URL whose user and password are
	// never shown, from the secret tag "userinfo".
	Userinfo bool
	field    int
}

// Vars returns every variable Config reads, in the struct's order.
func Vars() []Var {
	typ := reflect.TypeFor[Config]()
	var vars []Var
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		vars = append(vars, Var{Name: name, Default: f.Tag.Get("default"), Desc: f.Tag.Get("desc"),
			Secret: f.Tag.Get("secret") == "true", Userinfo: f.Tag.Get("secret") == "userinfo", field: i})
	}
	return vars
}

// Unknown is an ASSIGND_* or TWILIO_* variable that assignd does not read.
type Unknown struct {
	// Name is the variable as set.
	Name string
	// Suggest is the closest variable assignd reads.
	Suggest string
}

// String is the warning for u, naming the variable and the suggestion.
func (u Unknown) String() string {
	return fmt.Sprintf("%s is set but assignd does not read it: did you mean %s?", u.Name, u.Suggest)
}

// UnknownEnv returns the variables of environ ("NAME=value" entries, as
// os.Environ gives them) that begin with ASSIGND_ or TWILIO_ and that
// Config does not read, each with the closest name it does read.
func UnknownEnv(environ []string) []Unknown {
	vars := Vars()
	known := make([]string, len(vars))
	for i, v := range vars {
		known[i] = v.Name
	}
	var unknown []Unknown
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "ASSIGND_") && !strings.HasPrefix(name, "TWILIO_") || slices.Contains(known, name) {
			continue
		}
		unknown = append(unknown, Unknown{Name: name, Suggest: closest(name, known)})
	}
	slices.SortFunc(unknown, func(a, b Unknown) int { return strings.Compare(a.Name, b.Name) })
	return unknown
}

// CheckEnviron returns the unknown variables of environ (UnknownEnv), for
// warnings; with ASSIGND_STRICT_ENV=true they are an error instead, each
// naming the variable and the closest real name.
func (c *Config) CheckEnviron(environ []string) (warnings []Unknown, err error) {
	unknown := UnknownEnv(environ)
	if !c.StrictEnv || len(unknown) == 0 {
		return unknown, nil
	}
	errs := make([]error, len(unknown))
	for i, u := range unknown {
		errs[i] = fmt.Errorf("ASSIGND_STRICT_ENV: %s", u)
	}
	return nil, errors.Join(errs...)
}

// closest is the name in names at the least edit distance from s; a name
// that s is a prefix of, or that is a prefix of s, wins ties, as a
// shortened or lengthened name is the commoner slip.
func closest(s string, names []string) string {
	best, bestScore := "", 0
	for _, n := range names {
		score := 2 * editDistance(s, n)
		if strings.HasPrefix(n, s) || strings.HasPrefix(s, n) {
			score--
		}
		if best == "" || score < bestScore {
			best, bestScore = n, score
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Entry is one variable of the effective configuration, as "assignd
// config" and GET /-/config show it.
type Entry struct {
	Name string `json:"name"`
	// Value is the effective value; for a secret, "set" or "unset".
	Value string `json:"value"`
	// Source is "environment" or "default".
	Source string `json:"source"`
	Secret bool   `json:"secret,omitempty"`
}

// Entries is c's effective configuration, one entry a variable in the
// struct's order. lookup says which variables the environment set
// (os.LookupEnv for the process's own). No secret's value is in it.
func (c *Config) Entries(lookup func(string) (string, bool)) []Entry {
	v := reflect.ValueOf(c).Elem()
	vars := Vars()
	entries := make([]Entry, 0, len(vars))
	for _, cv := range vars {
		e := Entry{Name: cv.Name, Source: "default", Secret: cv.Secret}
		if _, set := lookup(cv.Name); set {
			e.Source = "environment"
		}
		e.Value = formatValue(v.Field(cv.field))
		if cv.Userinfo {
			e.Value = withoutUserinfo(e.Value)
		}
		if cv.Secret {
			e.Value = "unset"
			if !v.Field(cv.field).IsZero() {
				e.Value = "set"
			}
		}
		entries = append(entries, e)
	}
	return entries
}

// withoutUserinfo is raw with a URL's user and password masked; a value
// that does not parse as a URL with credentials is itself.
func withoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the value; say nothing of it.
		return "(not a URL)"
	}
	if u.User == nil {
		return raw
	}
	u.User = url.User("xxxxx")
	return u.String()
}

// formatValue is a field's value as its variable would be written.
func formatValue(f reflect.Value) string {
	if d, ok := f.Interface().(time.Duration); ok {
		return d.String()
	}
	return fmt.Sprint(f.Interface())
}

// usageFormat is envconfig's usage template for WriteUsage: name,
// default, meaning, one variable a line.
const usageFormat = `{{range .}}  {{usage_key .}}{{"\t"}}{{if usage_default .}}{{usage_default .}}{{else}}-{{end}}{{"\t"}}{{usage_description .}}
{{end}}`

// WriteUsage writes every variable Config reads with its default and
// meaning, from the struct's tags by envconfig's usage support, so that
// the list cannot drift from the code.
func WriteUsage(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  VARIABLE\tDEFAULT\tMEANING")
	if err := envconfig.Usagef("", &Config{}, tw, usageFormat); err != nil {
		return fmt.Errorf("listing the environment: %w", err)
	}
	return tw.Flush()
}
