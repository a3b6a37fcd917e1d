package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assignd/assignd/config"
)

// clearEnv unsets every variable assignd reads, and the misspellings the
// tests set, so that the machine's own environment cannot leak in.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range config.Vars() {
		t.Setenv(v.Name, "")
		os.Unsetenv(v.Name)
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "ASSIGND_") || strings.HasPrefix(k, "TWILIO_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// TestRun covers the subcommand switch and start-up errors from the
// environment.
func TestRun(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		code       int
		stdout     string
		stderrPart string
	}{
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrPart: "assignd: unknown command \"frobnicate\"\nrun 'assignd help'"},
		{name: "serve takes no arguments", args: []string{"serve", "extra"}, code: 2,
			stderrPart: "assignd serve: unexpected argument \"extra\": serve is configured by environment variables\nrun 'assignd serve -h' for usage\n"},
		{name: "no token", args: nil, code: 1, stderrPart: "TWILIO_AUTH_TOKEN is not set: set it to the account's auth token, or set ASSIGND_DEV=true to run locally without signature checks"},
		{name: "no policy file", args: nil, env: map[string]string{"TWILIO_AUTH_TOKEN": "tok"}, code: 1, stderrPart: "assignd: " + config.NoPolicyFile + "\n"},
		{name: "misspelt policy variable", args: []string{"serve"}, env: map[string]string{"TWILIO_AUTH_TOKEN": "tok", "ASSIGND_POLICY": "/etc/policy.yaml"}, code: 1,
			stderrPart: "assignd: warning: ASSIGND_POLICY is set but assignd does not read it: did you mean ASSIGND_POLICY_FILE?\nassignd: ASSIGND_POLICY_FILE is not set"},
		{name: "strict environment", args: []string{"serve"}, env: map[string]string{"ASSIGND_DEV": "true", "ASSIGND_STRICT_ENV": "true", "ASSIGND_LOGLEVEL": "debug"}, code: 1,
			stderrPart: "assignd: ASSIGND_STRICT_ENV: ASSIGND_LOGLEVEL is set but assignd does not read it: did you mean ASSIGND_LOG_LEVEL?"},
		{name: "bad variable", args: []string{"serve"}, env: map[string]string{"ASSIGND_LOG_LEVEL": "loud"}, code: 1, stderrPart: "ASSIGND_LOG_LEVEL"},
		{name: "validate is wired", args: []string{"validate"}, code: 2, stderrPart: "assignd validate: no policy file given\nrun 'assignd validate -h' for usage\n"},
		{name: "bad flag", args: []string{"explain", "-bogus"}, code: 2, stderrPart: "assignd explain: flag provided but not defined: -bogus\nrun 'assignd explain -h' for usage\n"},
		{name: "help for an unknown command", args: []string{"help", "frobnicate"}, code: 2, stderrPart: `unknown command "frobnicate"`},
		{name: "validate reads stdin", args: []string{"validate", "-"}, code: 1, stderrPart: "<stdin>"},
		{name: "experiment is wired", args: []string{"experiment"}, code: 2, stderrPart: "assignd experiment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader("version: 1\nrules: []\n"), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, stderr.String())
			}
			if tc.stdout != "" && stdout.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.stderrPart) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderrPart)
			}
		})
	}
}

func TestNewLogger(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		var buf bytes.Buffer
		log := newLogger(&config.Config{LogLevel: "warn", LogFormat: format}, &buf)
		log.Info("hidden")
		log.Warn("shown")
		log.Sync()
		if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
			t.Errorf("%s: level not applied: %q", format, buf.String())
		}
	}
	// A bad level or format is config.Check's to refuse: see config's TestLoadErrors.
}

// TestEveryCommandHelp: every command of the dispatch list, and the ones
// added to it later, prints its usage to stdout and exits 0 on -h, -help,
// --help and "assignd help COMMAND".
func TestEveryCommandHelp(t *testing.T) {
	clearEnv(t)
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "-help"}, {c.name, "--help"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
					t.Errorf("exit %d, want 0; stderr %q", code, stderr.String())
				}
				if !strings.HasPrefix(stdout.String(), "usage: assignd "+c.name) {
					t.Errorf("stdout %q does not start with the usage of %s", stdout.String(), c.name)
				}
				if stderr.Len() != 0 {
					t.Errorf("stderr %q, want nothing", stderr.String())
				}
			})
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
		for _, c := range commands {
			if !strings.Contains(stdout.String(), "  "+c.name+" ") {
				t.Errorf("%v does not list %s:\n%s", args, c.name, stdout.String())
			}
		}
	}
}

// TestVersion: "assignd version" and "assignd --version" print the same
// version, commit and Go version.
func TestVersion(t *testing.T) {
	var a, b, stderr bytes.Buffer
	if run([]string{"version"}, nil, &a, &stderr) != 0 || run([]string{"--version"}, nil, &b, &stderr) != 0 {
		t.Fatalf("version failed: %s", stderr.String())
	}
	if a.String() != b.String() || !strings.HasPrefix(a.String(), "assignd ") || !strings.Contains(a.String(), "\ncommit: ") ||
		!strings.Contains(a.String(), "\ngo: go") {
		t.Errorf("version %q, --version %q", a.String(), b.String())
	}
}

// TestServeCheckPolicy: serve -check-policy keeps exit-on-error for a
// policy file that does not load.
func TestServeCheckPolicy(t *testing.T) {
	clearEnv(t)
	bad := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: x\n    instruction: teleport\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ASSIGND_DEV", "true")
	t.Setenv("ASSIGND_POLICY_FILE", bad)
	t.Setenv("ASSIGND_LISTEN", "127.0.0.1:0")
	t.Setenv("ASSIGND_ADMIN_LISTEN", "127.0.0.1:0")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "-check-policy"}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "assignd: loading ASSIGND_POLICY_FILE: ") {
		t.Errorf("exit %d, stderr %s; want 1 naming the policy file", code, stderr.String())
	}
}
