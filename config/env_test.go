package config

import (
	"errors"
	"strings"
	"testing"
)

// TestNoPolicyFileRefused: outside development mode, no policy file is a
// refusal naming ASSIGND_POLICY_FILE and the two ways to run the example
// on purpose; either way starts.
func TestNoPolicyFileRefused(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" for no error
	}{
		{"production without a policy file", map[string]string{"TWILIO_AUTH_TOKEN": "tok"}, NoPolicyFile},
		{"a misspelt policy variable", map[string]string{"TWILIO_AUTH_TOKEN": "tok", "ASSIGND_POLICY": "/etc/policy.yaml"}, NoPolicyFile},
		{"the example on purpose", map[string]string{"TWILIO_AUTH_TOKEN": "tok", "ASSIGND_EXAMPLE_POLICY": "true"}, ""},
		{"development mode", map[string]string{"ASSIGND_DEV": "true"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Load error %v, want %q", err, tt.want)
			}
		})
	}
	if strings.Contains(NoPolicyFile, "\n") {
		t.Errorf("the refusal is more than one line: %q", NoPolicyFile)
	}
}

// TestMissingRESTNamesOnlyWhatIsMissing: with the auth token set, the
// error names the account SID alone.
func TestMissingRESTNamesOnlyWhatIsMissing(t *testing.T) {
	tests := []struct {
		c    Config
		want string
	}{
		{Config{AuthToken: "tok"}, "update-mode rules need REST credentials: set TWILIO_ACCOUNT_SID"},
		{Config{APIKey: "SK1", APISecret: "sec"}, "update-mode rules need REST credentials: set TWILIO_ACCOUNT_SID"},
		{Config{AccountSid: "AC1"}, "update-mode rules need REST credentials: set TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"},
		{Config{}, "update-mode rules need REST credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"},
	}
	for _, tt := range tests {
		_, err := tt.c.REST()
		if _, ok := errors.AsType[*MissingREST](err); !ok || err.Error() != tt.want {
			t.Errorf("REST() = %v, want %q", err, tt.want)
		}
	}
}

func TestUnknownEnv(t *testing.T) {
	environ := []string{"HOME=/root", "ASSIGND_POLICY=/etc/policy.yaml", "ASSIGND_POLICY_FILE=/p.yaml", "TWILIO_AUTH_TOKN=x",
		"ASSIGND_LOGLEVEL=debug", "TWILIO_AUTH_TOKEN=x", "ASSIGND_DEVMODE=1"}
	got := UnknownEnv(environ)
	want := []Unknown{
		{"ASSIGND_DEVMODE", "ASSIGND_DEV"},
		{"ASSIGND_LOGLEVEL", "ASSIGND_LOG_LEVEL"},
		{"ASSIGND_POLICY", "ASSIGND_POLICY_FILE"},
		{"TWILIO_AUTH_TOKN", "TWILIO_AUTH_TOKEN"},
	}
	if len(got) != len(want) {
		t.Fatalf("UnknownEnv = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("UnknownEnv[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if s := got[2].String(); s != "ASSIGND_POLICY is set but assignd does not read it: did you mean ASSIGND_POLICY_FILE?" {
		t.Errorf("warning %q", s)
	}
	for _, v := range Vars() {
		if u := UnknownEnv([]string{v.Name + "=x"}); len(u) != 0 {
			t.Errorf("%s, which Config reads, reported unknown", v.Name)
		}
		if v.Desc == "" {
			t.Errorf("%s has no desc tag: serve -h shows it without a meaning", v.Name)
		}
	}
}

// TestEntriesHideSecrets: secrets show as set or unset only, and every
// variable's source is right.
func TestEntriesHideSecrets(t *testing.T) {
	c := validConfig()
	c.AuthToken, c.APISecret, c.AccountSid = "s3cr3ttoken", "s3cr3tsecret", "AC1"
	env := map[string]string{"TWILIO_AUTH_TOKEN": "s3cr3ttoken", "TWILIO_API_SECRET": "s3cr3tsecret"}
	entries := c.Entries(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if len(entries) != len(Vars()) {
		t.Fatalf("%d entries for %d variables", len(entries), len(Vars()))
	}
	byName := map[string]Entry{}
	for _, e := range entries {
		if strings.Contains(e.Value, "s3cr3t") {
			t.Errorf("%s shows a secret: %q", e.Name, e.Value)
		}
		byName[e.Name] = e
	}
	for name, want := range map[string]Entry{
		"TWILIO_AUTH_TOKEN":           {Name: "TWILIO_AUTH_TOKEN", Value: "set", Source: "environment", Secret: true},
		"TWILIO_AUTH_TOKEN_SECONDARY": {Name: "TWILIO_AUTH_TOKEN_SECONDARY", Value: "unset", Source: "default", Secret: true},
		"TWILIO_ACCOUNT_SID":          {Name: "TWILIO_ACCOUNT_SID", Value: "AC1", Source: "default"},
		"ASSIGND_SHUTDOWN_TIMEOUT":    {Name: "ASSIGND_SHUTDOWN_TIMEOUT", Value: "20s", Source: "default"},
		"ASSIGND_DEV":                 {Name: "ASSIGND_DEV", Value: "true", Source: "default"},
	} {
		if byName[name] != want {
			t.Errorf("%s: %+v, want %+v", name, byName[name], want)
		}
	}
}

// TestDevLogFormat: development mode logs in the console format unless
// ASSIGND_LOG_FORMAT says otherwise; production logs JSON.
func TestDevLogFormat(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ASSIGND_DEV": "true"}, "console"},
		{map[string]string{"ASSIGND_DEV": "true", "ASSIGND_LOG_FORMAT": "json"}, "json"},
		{map[string]string{"TWILIO_AUTH_TOKEN": "tok", "ASSIGND_EXAMPLE_POLICY": "true"}, "json"},
	} {
		clearEnv(t)
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		c, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		if c.LogFormat != tt.want {
			t.Errorf("%v: log format %q, want %q", tt.env, c.LogFormat, tt.want)
		}
	}
}

// TestStrictEnv: ASSIGND_STRICT_ENV turns the warnings into an error.
func TestStrictEnv(t *testing.T) {
	environ := []string{"ASSIGND_POLICY=/etc/policy.yaml"}
	c := validConfig()
	if w, err := c.CheckEnviron(environ); err != nil || len(w) != 1 {
		t.Fatalf("CheckEnviron = %v, %v; want one warning", w, err)
	}
	c.StrictEnv = true
	_, err := c.CheckEnviron(environ)
	if err == nil || err.Error() != "ASSIGND_STRICT_ENV: ASSIGND_POLICY is set but assignd does not read it: did you mean ASSIGND_POLICY_FILE?" {
		t.Fatalf("strict CheckEnviron error %v", err)
	}
	if _, err := c.CheckEnviron([]string{"ASSIGND_DEV=true", "PATH=/bin"}); err != nil {
		t.Errorf("known variables refused: %v", err)
	}
}
