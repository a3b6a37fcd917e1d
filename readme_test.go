package main

import (
	"os"
	"strings"
	"testing"

	"github.com/assignd/assignd/config"
)

// TestREADMEUpdateMode pins what the README's update-mode section must and
// must not say: Twilio's own error-40005 page recommends `{}` for handling
// a reservation later, and operators must learn what a kill without
// SIGTERM loses and which metrics show it.
func TestREADMEUpdateMode(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Update mode")
	if !ok {
		t.Fatal("README has no Update mode section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	flat := strings.Join(strings.Fields(section), " ")
	tests := []struct {
		name string
		text string
		want bool
	}{
		{"no claim that {} raises 40005", "`{}` body would raise Twilio warning 40005", false},
		{"the empty body is what 40005 recommends", "error-40005 page recommends an empty body or `{}`", true},
		{"a kill without SIGTERM is covered", "What a kill without SIGTERM loses", true},
		{"TaskRouter offers the task again", "times the reservation out after `TaskReservationTimeout` and offers the task again", true},
		{"the queue depth to watch", "`assignd_update_queue_depth`", true},
		{"the updates in flight to watch", "`assignd_updates_in_flight`", true},
		{"the log flush", "flushed on SIGTERM", true},
	}
	for _, tt := range tests {
		if got := strings.Contains(flat, tt.text); got != tt.want {
			t.Errorf("%s: contains %q = %v, want %v", tt.name, tt.text, got, tt.want)
		}
	}
	updater, err := os.ReadFile("reservation/updater.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, metric := range []string{"assignd_update_queue_depth", "assignd_updates_in_flight"} {
		if !strings.Contains(string(updater), `"`+metric+`"`) {
			t.Errorf("the README's metric %s is not registered in reservation/updater.go", metric)
		}
	}
}

// TestREADMEListsEveryVariable: the README's configuration table has a row
// for every variable config.Config reads, with its default.
func TestREADMEListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Configuration")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, v := range config.Vars() {
		if !strings.Contains(section, "`"+v.Name+"`") {
			t.Errorf("the Configuration section does not list %s", v.Name)
		}
		if v.Default != "" && !strings.Contains(section, "`"+v.Name+"` | `"+v.Default+"` |") {
			t.Errorf("the Configuration section does not give %s its default %s", v.Name, v.Default)
		}
	}
}
