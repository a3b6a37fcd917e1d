package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// clearEnv empties every variable Config reads, so that the machine's own
// environment cannot leak into a test.
func clearEnv(t *testing.T) {
	for _, v := range Vars() {
		t.Setenv(v.Name, "") // restores the variable after the test
		os.Unsetenv(v.Name)
	}
}

func TestLoadDefaults(t *testing.T) {
	clearEnv(t)
	t.Setenv("TWILIO_AUTH_TOKEN", "tok") // the variables without a default that Check requires
	t.Setenv("ASSIGND_POLICY_FILE", "/etc/assignd/policy.yaml")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{AuthToken: "tok", PolicyFile: "/etc/assignd/policy.yaml", Listen: ":8080", AdminListen: ":9090", ShutdownTimeout: 20 * time.Second, LogLevel: "info",
		LogFormat: "json", TaskRouterURL: "https://taskrouter.twilio.com", UpdateQueue: 10000, UpdateConcurrency: 16,
		UpdateAttemptTimeout: 5 * time.Second, ReservationTimeout: 120 * time.Second, DecisionMemory: 100000, MaxConnections: 4096, MaxTableBytes: 64 << 20,
		DecisionLogMaxMB: 100, DecisionLogMaxFiles: 10}
	if *c != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", *c, want)
	}
}

// TestLoadErrors checks that a bad value stops start-up with a message
// naming its variable, and that every bad value is reported at once.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"unparsable duration", map[string]string{"ASSIGND_SHUTDOWN_TIMEOUT": "soon"}, []string{"ASSIGND_SHUTDOWN_TIMEOUT"}},
		{"unparsable bool", map[string]string{"ASSIGND_DEV": "maybe"}, []string{"ASSIGND_DEV"}},
		{"base URL without scheme", map[string]string{"ASSIGND_PUBLIC_BASE_URL": "cc.example.com/routing"}, []string{"ASSIGND_PUBLIC_BASE_URL"}},
		{"base URL with a query", map[string]string{"ASSIGND_PUBLIC_BASE_URL": "https://cc.example.com/?x=1"}, []string{"ASSIGND_PUBLIC_BASE_URL", "query"}},
		{"bad log level and format together", map[string]string{"ASSIGND_LOG_LEVEL": "loud", "ASSIGND_LOG_FORMAT": "xml"},
			[]string{"ASSIGND_LOG_LEVEL", "ASSIGND_LOG_FORMAT"}},
		{"API key without secret", map[string]string{"TWILIO_API_KEY": "SK123"}, []string{"TWILIO_API_KEY and TWILIO_API_SECRET go together"}},
		{"decision log sink unknown", map[string]string{"ASSIGND_DECISION_LOG": "stderr"}, []string{"ASSIGND_DECISION_LOG", "stdout, file:/path or an http(s)://"}},
		{"decision log sizes", map[string]string{"ASSIGND_DECISION_LOG": "stdout", "ASSIGND_DECISION_LOG_MAX_MB": "0", "ASSIGND_DECISION_LOG_MAX_FILES": "-1"},
			[]string{"ASSIGND_DECISION_LOG_MAX_MB", "ASSIGND_DECISION_LOG_MAX_FILES"}},
		{"reservation timeout beyond TaskRouter's", map[string]string{"ASSIGND_RESERVATION_TIMEOUT": "25h"}, []string{"ASSIGND_RESERVATION_TIMEOUT"}},
		{"reservation timeout leaving no time for an update", map[string]string{"ASSIGND_RESERVATION_TIMEOUT": "5s"},
			[]string{"ASSIGND_RESERVATION_TIMEOUT", "safety margin (5s)", "10s"}},
		{"reservation timeout equal to margin plus attempt", map[string]string{"ASSIGND_RESERVATION_TIMEOUT": "12s",
			"ASSIGND_UPDATE_ATTEMPT_TIMEOUT": "7s"}, []string{"ASSIGND_RESERVATION_TIMEOUT", "12s"}},
		{"no decision memory", map[string]string{"ASSIGND_DECISION_MEMORY": "0"}, []string{"ASSIGND_DECISION_MEMORY: must be between 1 and"}},
		{"decision memory beyond the bound", map[string]string{"ASSIGND_DECISION_MEMORY": "10000001"}, []string{"ASSIGND_DECISION_MEMORY"}},
		{"zero concurrency", map[string]string{"ASSIGND_UPDATE_CONCURRENCY": "0"}, []string{"ASSIGND_UPDATE_CONCURRENCY"}},
		{"public URL with credentials", map[string]string{"ASSIGND_PUBLIC_BASE_URL": "https://ops:s3cret@assignd.example.com"}, []string{"ASSIGND_PUBLIC_BASE_URL: must not hold a user name or password"}},
		{"zero connections", map[string]string{"ASSIGND_MAX_CONNECTIONS": "0"}, []string{"ASSIGND_MAX_CONNECTIONS", "at least 1"}},
		{"negative connections", map[string]string{"ASSIGND_MAX_CONNECTIONS": "-5"}, []string{"ASSIGND_MAX_CONNECTIONS"}},
		{"negative table bytes", map[string]string{"ASSIGND_MAX_TABLE_BYTES": "-1"}, []string{"ASSIGND_MAX_TABLE_BYTES: must be between 0 (the default, 64 MiB) and 4294967295, not -1"}},
		{"table bytes past 32-bit offsets", map[string]string{"ASSIGND_MAX_TABLE_BYTES": "4294967296"}, []string{"ASSIGND_MAX_TABLE_BYTES"}},
		{"TaskRouter URL not absolute", map[string]string{"ASSIGND_TASKROUTER_URL": "localhost:8080"}, []string{"ASSIGND_TASKROUTER_URL"}},
		{"shadow without a live policy file", map[string]string{"ASSIGND_SHADOW_POLICY_FILE": "/p/new.yaml"}, []string{"ASSIGND_SHADOW_POLICY_FILE: needs ASSIGND_POLICY_FILE"}},
		{"shadow is the live file", map[string]string{"ASSIGND_POLICY_FILE": "/p/p.yaml", "ASSIGND_SHADOW_POLICY_FILE": "/p/p.yaml"}, []string{"ASSIGND_SHADOW_POLICY_FILE: is ASSIGND_POLICY_FILE"}},
		{"overrides file is the policy", map[string]string{"ASSIGND_POLICY_FILE": "/p/p.yaml", "ASSIGND_OVERRIDES_FILE": "/p/p.yaml"}, []string{"ASSIGND_OVERRIDES_FILE: is a policy file"}},
		{"no token outside development mode", map[string]string{}, []string{
			"TWILIO_AUTH_TOKEN is not set: set it to the account's auth token, or set ASSIGND_DEV=true to run locally without signature checks"}},
		{"every bad value at once", map[string]string{"ASSIGND_LOG_LEVEL": "loud", "ASSIGND_TASKROUTER_URL": "x", "TWILIO_ACCOUNT_SID": "AC1",
			"TWILIO_AUTH_TOKEN": "tok en"}, []string{"ASSIGND_LOG_LEVEL", "ASSIGND_TASKROUTER_URL", "TWILIO_AUTH_TOKEN: must be letters and digits only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			if err == nil {
				t.Fatalf("Load accepted %v", tt.env)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestRESTCredentials(t *testing.T) {
	tests := []struct {
		name               string
		c                  Config
		ok                 bool
		user, pass, reason string
	}{
		{"API key wins", Config{AccountSid: "AC1", AuthToken: "tok", APIKey: "SK1", APISecret: "sec"}, true, "SK1", "sec", ""},
		{"auth token", Config{AccountSid: "AC1", AuthToken: "tok"}, true, "AC1", "tok", ""},
		{"no account", Config{AuthToken: "tok"}, false, "", "", "TWILIO_ACCOUNT_SID"},
		{"account only", Config{AccountSid: "AC1"}, false, "", "", "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := tt.c.REST()
			me, missing := errors.AsType[*MissingREST](err)
			if ok := err == nil; ok != tt.ok || (missing && !strings.Contains(me.Vars, tt.reason)) {
				t.Fatalf("REST = %v; want ok %v, missing %q", err, tt.ok, tt.reason)
			}
			if tt.ok && (creds.Username != tt.user || creds.Password != tt.pass) {
				t.Errorf("credentials %s:%s, want %s:%s", creds.Username, creds.Password, tt.user, tt.pass)
			}
		})
	}
}

// TestDevNeedsNoToken: development mode skips signature checks, so it needs
// no token to check them with.
func TestDevNeedsNoToken(t *testing.T) {
	clearEnv(t)
	t.Setenv("ASSIGND_DEV", "true")
	if _, err := Load(); err != nil {
		t.Fatalf("development mode without a token: %v", err)
	}
}

// TestCheckRESTCredentials checks the credential rules: which credentials
// are used, what is missing, and what twilio-go would refuse.
func TestCheckRESTCredentials(t *testing.T) {
	const account, key, secret = "AC0123456789abcdef0123456789abcdef", "SK0123456789abcdef0123456789abcdef", "secret0123"
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" for no error
	}{
		{"api key", func(c *Config) { c.AccountSid, c.APIKey, c.APISecret = account, key, secret }, ""},
		{"auth token", func(c *Config) { c.AccountSid, c.AuthToken = account, "tok123" }, ""},
		{"nothing", func(c *Config) {}, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"},
		{"sid only", func(c *Config) { c.AccountSid = account }, "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"},
		{"key without sid", func(c *Config) { c.APIKey, c.APISecret = key, secret }, "TWILIO_ACCOUNT_SID"},
		{"bad secret", func(c *Config) { c.AccountSid, c.APIKey, c.APISecret = account, key, "se/cret" }, "TWILIO_API_SECRET: must be letters and digits only"},
		{"bad token", func(c *Config) { c.AccountSid, c.AuthToken = account, "tok en" }, "TWILIO_AUTH_TOKEN: must be letters and digits only"},
		{"bad account with a key", func(c *Config) { c.AccountSid, c.APIKey, c.APISecret = "AC-1", key, secret }, "TWILIO_ACCOUNT_SID: must be letters and digits only"},
		{"bad key", func(c *Config) { c.AccountSid, c.APIKey, c.APISecret = account, "SK 1", secret }, "TWILIO_API_KEY: must be letters and digits only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(c)
			_, err := c.REST()
			err = errors.Join(err, c.Check())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestCheckIgnoresIncompleteCredentials: credentials that are not all set
// are not checked for twilio-go's alphabet, as nothing sends with them; a
// signing-only token may hold any character.
func TestCheckIgnoresIncompleteCredentials(t *testing.T) {
	c := validConfig()
	c.AuthToken = "tok en"
	if err := c.Check(); err != nil {
		t.Fatalf("a signing-only token was checked as a REST credential: %v", err)
	}
}

func TestLevel(t *testing.T) {
	for in, want := range map[string]zapcore.Level{"debug": zapcore.DebugLevel, "WARN": zapcore.WarnLevel, "error": zapcore.ErrorLevel, "info": zapcore.InfoLevel} {
		if got := (&Config{LogLevel: in}).Level(); got != want {
			t.Errorf("Level(%q) = %s, want %s", in, got, want)
		}
	}
}

// validConfig is what Load gives in development mode, which needs no token.
func validConfig() *Config {
	return &Config{Listen: ":8080", AdminListen: ":9090", ShutdownTimeout: 20 * time.Second, LogLevel: "info",
		LogFormat: "json", TaskRouterURL: "https://taskrouter.twilio.com", UpdateQueue: 10000, UpdateConcurrency: 16,
		UpdateAttemptTimeout: 5 * time.Second, ReservationTimeout: 120 * time.Second, DecisionMemory: 100000, Dev: true, MaxConnections: 4096}
}

// TestReservationTimeoutJustEnough checks the bound is strict, not
// off by one: margin plus one attempt plus a second is accepted.
func TestReservationTimeoutJustEnough(t *testing.T) {
	c := Config{Dev: true, LogLevel: "info", LogFormat: "json", TaskRouterURL: "https://taskrouter.twilio.com",
		ShutdownTimeout: time.Second, UpdateQueue: 1, UpdateConcurrency: 1,
		UpdateAttemptTimeout: 5 * time.Second, ReservationTimeout: UpdateSafetyMargin + 6*time.Second, DecisionMemory: 1, MaxConnections: 1}
	if err := c.Check(); err != nil {
		t.Errorf("Check refused %s: %v", c.ReservationTimeout, err)
	}
}

// TestDecisionLogSink: each kind of sink loads, and a collector URL that
// does not parse is refused without quoting it, password and all.
func TestDecisionLogSink(t *testing.T) {
	for _, v := range []string{"stdout", "file:/var/log/assignd/decisions.jsonl", "https://ingest:pw@collector.example/v1/decisions"} {
		clearEnv(t)
		t.Setenv("TWILIO_AUTH_TOKEN", "tok")
		t.Setenv("ASSIGND_POLICY_FILE", "/etc/assignd/policy.yaml")
		t.Setenv("ASSIGND_DECISION_LOG", v)
		c, err := Load()
		if err != nil || c.DecisionLog != v {
			t.Errorf("ASSIGND_DECISION_LOG=%s: %v", v, err)
		}
	}
	clearEnv(t)
	t.Setenv("TWILIO_AUTH_TOKEN", "tok")
	t.Setenv("ASSIGND_DECISION_LOG", "https://ingest:hunter2@[::1")
	_, err := Load()
	if err == nil || !strings.Contains(err.Error(), "ASSIGND_DECISION_LOG") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a malformed collector URL: %v; want an error naming the variable and not the password", err)
	}
}

// TestAdminHostList splits ASSIGND_ADMIN_HOSTS on commas, dropping blanks.
func TestAdminHostList(t *testing.T) {
	c := Config{AdminHosts: " assignd-admin.ops.svc, ,console.example.com,"}
	if got := c.AdminHostList(); len(got) != 2 || got[0] != "assignd-admin.ops.svc" || got[1] != "console.example.com" {
		t.Errorf("AdminHostList() = %q", got)
	}
}

// TestSecretsTagged: every variable whose name says it holds a credential
// carries the secret tag, so that config, GET /-/config and the start-up
// log show it as set or unset only; a new one cannot be added in clear.
func TestSecretsTagged(t *testing.T) {
	for _, v := range Vars() {
		name := strings.ToUpper(v.Name)
		credential := strings.Contains(name, "TOKEN") || strings.Contains(name, "SECRET") || strings.Contains(name, "PASSWORD")
		if credential && !v.Secret {
			t.Errorf("%s holds a credential but is not tagged secret", v.Name)
		}
	}
}
