package buildinfo

import (
	"runtime"
	"testing"
)

func TestGetPrefersLinkerValues(t *testing.T) {
	Version, Revision, Date = "v1.2.3", "abc123", "2026-01-02T03:04:05Z"
	t.Cleanup(func() { Version, Revision, Date = "", "", "" })
	got := Get()
	want := Info{Version: "v1.2.3", Revision: "abc123", Date: "2026-01-02T03:04:05Z", GoVersion: runtime.Version()}
	if got != want {
		t.Errorf("Get() = %+v, want %+v", got, want)
	}
}

func TestGetFallsBack(t *testing.T) {
	got := Get()
	if got.Version == "" || got.Revision == "" || got.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v: every field but Date must be filled", got)
	}
}
