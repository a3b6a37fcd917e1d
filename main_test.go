package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/assignd/assignd/config"
)

// TestRun covers the subcommand switch and start-up errors from the
// environment.
func TestRun(t *testing.T) {
	for _, k := range []string{"TWILIO_AUTH_TOKEN", "ASSIGND_DEV", "ASSIGND_LOG_LEVEL", "ASSIGND_POLICY_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		code       int
		stdout     string
		stderrPart string
	}{
		{name: "version", args: []string{"version"}, code: 0, stdout: "assignd dev\n"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrPart: `unknown command "frobnicate"`},
		{name: "serve takes no arguments", args: []string{"serve", "extra"}, code: 2, stderrPart: "configured by environment variables"},
		{name: "no token", args: nil, code: 1, stderrPart: "TWILIO_AUTH_TOKEN is not set: set it to the account's auth token, or set ASSIGND_DEV=true to run locally without signature checks"},
		{name: "bad variable", args: []string{"serve"}, env: map[string]string{"ASSIGND_LOG_LEVEL": "loud"}, code: 1, stderrPart: "ASSIGND_LOG_LEVEL"},
		{name: "validate is wired", args: []string{"validate"}, code: 2, stderrPart: "usage: assignd validate"},
		{name: "experiment is wired", args: []string{"experiment"}, code: 2, stderrPart: "usage: assignd experiment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
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
