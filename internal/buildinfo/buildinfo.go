// Package buildinfo is what the running binary knows about its own build:
// the version and commit stamped in by the linker, else what the Go
// toolchain recorded (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version, Revision and Date are set at build time with
// -ldflags "-X github.com/assignd/assignd/internal/buildinfo.Version=...";
// an empty one falls back to the toolchain's build information.
var (
	Version, Revision, Date string
)

// Info describes the running binary's build.
type Info struct {
	// Version is the release, "(devel)" for an unstamped local build.
	Version string
	// Revision is the VCS commit, "unknown" when nothing recorded it.
	Revision string
	// Date is the commit or build time, "" when nothing recorded it.
	Date string
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

// Get returns the running binary's build: the linker-set values where
// set, else the toolchain's.
func Get() Info {
	info := Info{Version: Version, Revision: Revision, Date: Date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Revision == "":
				info.Revision = s.Value
			case s.Key == "vcs.time" && info.Date == "":
				info.Date = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}
