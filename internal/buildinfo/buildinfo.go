// Package buildinfo says which build of assignd is running: its version,
// the commit it was built from and when, and the Go toolchain.
//
// Release builds set Version, Revision and Date with the linker, e.g.
//
//	go build -ldflags "-X github.com/assignd/assignd/internal/buildinfo.Version=1.2.3 \
//	  -X github.com/assignd/assignd/internal/buildinfo.Revision=$(git rev-parse HEAD) \
//	  -X github.com/assignd/assignd/internal/buildinfo.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// (.goreleaser.yaml and the Dockerfile do). A build without them, such as
// `go install github.com/assignd/assignd@v1.2.3`, still knows its module
// version and, when built from a checkout, the VCS revision and commit time,
// which Get reads from the binary's embedded build information.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the linker (-X); empty in a plain `go build`.
var (
	// Version is the release version, such as "1.2.3" (no leading v).
	Version string
	// Revision is the full commit hash the binary was built from.
	Revision string
	// Date is when the commit was made or the binary built, RFC 3339 in UTC.
	Date string
)

// Unknown is what Info holds for a field nothing could supply.
const Unknown = "unknown"

// Info describes one build. No field is empty: what is not known is Unknown.
type Info struct {
	// Version is the release or module version, "(devel)" for a build from a
	// checkout that is not a tagged module version.
	Version string
	// Revision is the commit hash; Modified reports uncommitted changes
	// when the Go toolchain recorded them.
	Revision string
	Modified bool
	// Date is the commit or build time.
	Date string
	// GoVersion is the toolchain that built the binary, such as "go1.26.0".
	GoVersion string
}

// Get returns the running binary's build information: the linker-set
// variables where set, else what the Go toolchain embedded.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return fromBuild(Version, Revision, Date, bi)
}

// fromBuild merges the linker-set values with the embedded build
// information bi (nil when the binary has none); linker values win.
func fromBuild(version, revision, date string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Revision: revision, Date: date, GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if info.Version == "" && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Revision == "" {
					info.Revision = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	for _, f := range []*string{&info.Version, &info.Revision, &info.Date} {
		if *f == "" {
			*f = Unknown
		}
	}
	return info
}
