package config

import (
	"strings"
	"testing"
)

// TestErrorsHideURLPasswords gives URL variables with a password that
// are wrong in other ways, and checks that the start-up error names the
// variable but never prints the password.
func TestErrorsHideURLPasswords(t *testing.T) {
	const password = "s3cret-pw"
	for _, tc := range []struct{ name, value string }{
		{"ASSIGND_TASKROUTER_URL", "ftp://proxy:" + password + "@proxy.example.com"},
		{"ASSIGND_TASKROUTER_URL", "https://proxy:" + password + "@proxy.example.com/%zz"},
		{"ASSIGND_TASKROUTER_URL", "https://proxy:" + password + "@proxy.example.com:port"},
		{"ASSIGND_PUBLIC_BASE_URL", "https://ops:" + password + "@assignd.example.com/%zz"},
		{"ASSIGND_PUBLIC_BASE_URL", "https://ops:" + password + "@assignd.example.com:port/"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("ASSIGND_DEV", "true")
			t.Setenv(tc.name, tc.value)
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("Load = %v, want an error naming %s", err, tc.name)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error prints the password: %v", err)
			}
		})
	}
}

func TestPrintableURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://taskrouter.twilio.com":      "https://taskrouter.twilio.com",
		"ftp://u:pw@proxy.example.com":       "ftp://u:xxxxx@proxy.example.com",
		"https://u:pw@proxy.example.com/%zz": "(not shown: it may hold a password)",
		"localhost:8080":                     "localhost:8080",
	} {
		if got := printableURL(in); got != want {
			t.Errorf("printableURL(%q) = %q, want %q", in, got, want)
		}
	}
}
