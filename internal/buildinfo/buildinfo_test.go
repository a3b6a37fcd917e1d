package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestFromBuild covers every source of each field and the precedence of
// the linker's values over the embedded build information.
func TestFromBuild(t *testing.T) {
	embedded := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/assignd/assignd", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-30T12:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name                    string
		version, revision, date string
		bi                      *debug.BuildInfo
		want                    Info
	}{
		{
			name:    "linker values win",
			version: "1.3.0", revision: "fedcba9876543210fedcba9876543210fedcba98", date: "2026-12-01T00:00:00Z",
			bi:   embedded,
			want: Info{Version: "1.3.0", Revision: "fedcba9876543210fedcba9876543210fedcba98", Date: "2026-12-01T00:00:00Z", Modified: true, GoVersion: "go1.26.0"},
		},
		{
			name: "go install of a module version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.2.3"}},
			want: Info{Version: "v1.2.3", Revision: Unknown, Date: Unknown, GoVersion: "go1.26.1"},
		},
		{
			name: "build from a checkout",
			bi:   embedded,
			want: Info{Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-30T12:00:00Z", Modified: true, GoVersion: "go1.26.0"},
		},
		{
			name:    "only the version set by the linker",
			version: "dev",
			bi:      &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "false"}}},
			want:    Info{Version: "dev", Revision: Unknown, Date: Unknown, GoVersion: runtime.Version()},
		},
		{
			name: "no build information",
			want: Info{Version: Unknown, Revision: Unknown, Date: Unknown, GoVersion: runtime.Version()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuild(tt.version, tt.revision, tt.date, tt.bi); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestGet checks the test binary's own build information: it is a Go
// build, so the Go version is known and no field is empty.
func TestGet(t *testing.T) {
	info := Get()
	if !strings.HasPrefix(info.GoVersion, "go") {
		t.Errorf("GoVersion %q", info.GoVersion)
	}
	for name, v := range map[string]string{"Version": info.Version, "Revision": info.Revision, "Date": info.Date} {
		if v == "" {
			t.Errorf("%s is empty; want a value or %q", name, Unknown)
		}
	}
}

// TestLinkerVariables builds nothing, but holds the variable names that
// .goreleaser.yaml and the Dockerfile set with -X: renaming one would
// silently drop the version from release binaries.
func TestLinkerVariables(t *testing.T) {
	Version, Revision, Date = "9.9.9", "abc", "2026-01-01T00:00:00Z"
	t.Cleanup(func() { Version, Revision, Date = "", "", "" })
	info := Get()
	if info.Version != "9.9.9" || info.Revision != "abc" || info.Date != "2026-01-01T00:00:00Z" {
		t.Errorf("Get() = %+v; the linker variables are not used", info)
	}
}
