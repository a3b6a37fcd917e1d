package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// buildinfoVars are the linker variables of internal/buildinfo that every
// release build sets.
var buildinfoVars = []string{
	"github.com/assignd/assignd/internal/buildinfo.Version",
	"github.com/assignd/assignd/internal/buildinfo.Revision",
	"github.com/assignd/assignd/internal/buildinfo.Date",
}

// goreleaserConfig is the part of .goreleaser.yaml the test checks.
type goreleaserConfig struct {
	Version int `json:"version"`
	Builds  []struct {
		ID      string   `json:"id"`
		Env     []string `json:"env"`
		Goos    []string `json:"goos"`
		Goarch  []string `json:"goarch"`
		Flags   []string `json:"flags"`
		Ldflags []string `json:"ldflags"`
	} `json:"builds"`
	Sboms    []map[string]any `json:"sboms"`
	Checksum map[string]any   `json:"checksum"`
	Dockers  []struct {
		Dockerfile string   `json:"dockerfile"`
		Images     []string `json:"images"`
		Platforms  []string `json:"platforms"`
	} `json:"dockers_v2"`
}

// TestGoreleaserConfig checks the release configuration against the
// issue: static linux and darwin binaries on amd64 and arm64 with the build
// information stamped in, checksums, SBOMs, and a multi-arch image from a
// Dockerfile that exists. `goreleaser check` validates the schema; this
// holds what it cannot know.
func TestGoreleaserConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	if c.Version != 2 || len(c.Builds) != 1 {
		t.Fatalf("version %d with %d builds; want version 2 and one build", c.Version, len(c.Builds))
	}
	b := c.Builds[0]
	if !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("env %v flags %v; want a static, trimmed build", b.Env, b.Flags)
	}
	slices.Sort(b.Goos)
	slices.Sort(b.Goarch)
	if !slices.Equal(b.Goos, []string{"darwin", "linux"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
		t.Errorf("goos %v goarch %v", b.Goos, b.Goarch)
	}
	ldflags := strings.Join(b.Ldflags, " ")
	for _, v := range buildinfoVars {
		if !strings.Contains(ldflags, "-X "+v+"=") {
			t.Errorf("ldflags do not set %s", v)
		}
	}
	if len(c.Sboms) == 0 || c.Checksum == nil {
		t.Error("no SBOMs or no checksums")
	}
	if len(c.Dockers) != 1 {
		t.Fatalf("%d images, want 1", len(c.Dockers))
	}
	d := c.Dockers[0]
	slices.Sort(d.Platforms)
	if !slices.Equal(d.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("image platforms %v", d.Platforms)
	}
	dockerfile, err := os.ReadFile(filepath.Join("..", d.Dockerfile))
	if err != nil {
		t.Fatalf("the image's Dockerfile: %v", err)
	}
	for _, want := range []string{
		"FROM gcr.io/distroless/static-debian12:nonroot\n",
		"COPY $TARGETPLATFORM/assignd /assignd\n",
		"USER 65532:65532\n",
		"ENTRYPOINT [\"/assignd\"]\nCMD [\"serve\"]\n",
	} {
		if !strings.Contains(string(dockerfile), want) {
			t.Errorf("%s lacks %q", d.Dockerfile, want)
		}
	}
}

// TestBuildinfoVarsExist holds the -X targets to variables that exist, so
// that renaming one fails here rather than silently dropping the version
// from release binaries (the linker ignores an -X for a missing variable).
func TestBuildinfoVarsExist(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "internal", "buildinfo", "buildinfo.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range buildinfoVars {
		name := v[strings.LastIndex(v, ".")+1:]
		if !strings.Contains(string(src), "\t"+name+" string\n") {
			t.Errorf("internal/buildinfo declares no string variable %s", name)
		}
	}
}
