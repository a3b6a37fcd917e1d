package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// clearEnv empties every variable Config reads, so that the machine's own
// environment cannot leak into a test.
func clearEnv(t *testing.T) {
	for _, name := range []string{"ASSIGND_LISTEN", "ASSIGND_ADMIN_LISTEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
		"TWILIO_AUTH_TOKEN_SECONDARY", "TWILIO_API_KEY", "TWILIO_API_SECRET", "ASSIGND_PUBLIC_BASE_URL",
		"ASSIGND_TRUST_FORWARDED", "ASSIGND_POLICY_FILE", "ASSIGND_SHUTDOWN_TIMEOUT", "ASSIGND_LOG_LEVEL",
		"ASSIGND_LOG_FORMAT", "ASSIGND_DEV", "ASSIGND_TASKROUTER_URL", "ASSIGND_UPDATE_QUEUE",
		"ASSIGND_UPDATE_CONCURRENCY", "ASSIGND_UPDATE_ATTEMPT_TIMEOUT", "ASSIGND_RESERVATION_TIMEOUT"} {
		t.Setenv(name, "") // restores the variable after the test
		os.Unsetenv(name)
	}
}

func TestLoadDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Listen: ":8080", AdminListen: ":9090", ShutdownTimeout: 20 * time.Second, LogLevel: "info",
		LogFormat: "json", TaskRouterURL: "https://taskrouter.twilio.com", UpdateQueue: 10000, UpdateConcurrency: 16,
		UpdateAttemptTimeout: 5 * time.Second, ReservationTimeout: 120 * time.Second}
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
		{"reservation timeout beyond TaskRouter's", map[string]string{"ASSIGND_RESERVATION_TIMEOUT": "25h"}, []string{"ASSIGND_RESERVATION_TIMEOUT"}},
		{"zero concurrency", map[string]string{"ASSIGND_UPDATE_CONCURRENCY": "0"}, []string{"ASSIGND_UPDATE_CONCURRENCY"}},
		{"TaskRouter URL not absolute", map[string]string{"ASSIGND_TASKROUTER_URL": "localhost:8080"}, []string{"ASSIGND_TASKROUTER_URL"}},
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
		{"account only", Config{AccountSid: "AC1"}, false, "", "", "TWILIO_API_KEY+TWILIO_API_SECRET or TWILIO_AUTH_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, missing := tt.c.HasRESTCredentials()
			if ok != tt.ok || !strings.Contains(missing, tt.reason) {
				t.Fatalf("HasRESTCredentials = %v, %q; want %v, %q", ok, missing, tt.ok, tt.reason)
			}
			if ok && (tt.c.RESTUsername() != tt.user || tt.c.RESTPassword() != tt.pass) {
				t.Errorf("credentials %s:%s, want %s:%s", tt.c.RESTUsername(), tt.c.RESTPassword(), tt.user, tt.pass)
			}
		})
	}
}
