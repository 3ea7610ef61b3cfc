package image

import (
	"archive/tar"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestBuild builds the image of a real static gantry binary, writes it as
// a tarball, reads it back and checks its configuration (entrypoint,
// non-root user, labels) and its files.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gantry")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gantry")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/gantry-dev/gantry/cmd/gantry")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if f, err := elf.Open(bin); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the gantry binary is dynamically linked (it has an interpreter); the image has no libc")
			}
		}
		f.Close()
	}
	img, err := Build(Options{Binary: bin, Version: "v1.2.3", Revision: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gantry.tar")
	tag, _ := name.NewTag("ghcr.io/gantry-dev/gantry:v1.2.3")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := back.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if strings.Join(c.Entrypoint, " ") != "/gantry" || c.Cmd[0] != "server" || c.User != "65532:65532" || cfg.OS != "linux" {
		t.Errorf("config: entrypoint %q cmd %q user %q os %q; want /gantry server as 65532:65532 on linux", c.Entrypoint, c.Cmd, c.User, cfg.OS)
	}
	for k, v := range map[string]string{"org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.source": "https://github.com/gantry-dev/gantry", "org.opencontainers.image.title": "gantry"} {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	layers, err := back.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	var passwd string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		if h.Name == "etc/passwd" {
			b, _ := io.ReadAll(tr)
			passwd = string(b)
		}
	}
	want, _ := os.Stat(bin)
	if h := files["gantry"]; h == nil || h.Mode != 0o755 || h.Size != want.Size() {
		t.Errorf("/gantry in the layer: %+v, want mode 0755 and %d bytes", h, want.Size())
	}
	if h := files["data/"]; h == nil || h.Uid != User {
		t.Errorf("/data: %+v, want owned by %d", h, User)
	}
	if !strings.Contains(passwd, "gantry:x:65532:65532:") {
		t.Errorf("/etc/passwd = %q, want the gantry user 65532", passwd)
	}
}
