package image

import (
	"archive/tar"
	"crypto/sha256"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestBuild builds a real static gantry binary and its image, writes the
// image into an OCI layout in a temporary directory, reads it back and
// checks its configuration (entrypoint, non-root user, labels) and its
// layer: the binary in it is byte for byte the one built, and it runs.
// It runs under plain `go test ./...` (CI); only -short skips it.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips compiling gantry with CGO_ENABLED=0")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gantry")
	if err := BuildBinary(bin, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	assertStatic(t, bin)
	img, err := Build(Options{Binary: bin, Version: "v1.2.3", Revision: "abc123", Arch: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	oci := filepath.Join(dir, "oci")
	tag, _ := name.NewTag("ghcr.io/gantry-dev/gantry:v1.2.3")
	if err := WriteLayout(oci, tag, img); err != nil {
		t.Fatal(err)
	}
	back := readLayout(t, oci)
	cfg, err := back.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if !slices.Equal(c.Entrypoint, []string{"/gantry", "server"}) || c.User != "65532:65532" || cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("config: entrypoint %q user %q platform %s/%s; want [/gantry server] as 65532:65532 on linux/%s",
			c.Entrypoint, c.User, cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.source": "https://github.com/gantry-dev/gantry", "org.opencontainers.image.title": "gantry",
	} {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	files := layerFiles(t, back)
	want := fileSum(t, bin)
	if got := files["gantry"]; got.sum != want || got.hdr.Mode != 0o755 {
		t.Errorf("/gantry in the layer: sha256 %x mode %o; want the binary built (sha256 %x), mode 755", got.sum, got.hdr.Mode, want)
	}
	if got := files["data/"]; got.hdr == nil || got.hdr.Uid != User {
		t.Errorf("/data in the layer: %+v; want a directory owned by %d", got.hdr, User)
	}
	if got := files["etc/passwd"]; !strings.Contains(string(got.body), "gantry:x:65532:65532:") {
		t.Errorf("/etc/passwd = %q; want the gantry user 65532", got.body)
	}
	// The binary from the layer runs (no libc, no loader needed).
	extracted := filepath.Join(dir, "from-layer")
	if err := os.WriteFile(extracted, files["gantry"].body, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(extracted, "version", "--client").CombinedOutput(); err != nil {
		t.Errorf("gantry version --client from the image's layer: %v\n%s", err, out)
	}
}

// assertStatic fails when bin asks for a dynamic loader: the image has no libc.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked (it has an ELF interpreter); the image has no libc", bin)
		}
	}
}

// readLayout returns the one image of an OCI layout.
func readLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1.2.3" {
		t.Fatalf("layout index: %+v; want one image named v1.2.3", m.Manifests)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

type layerFile struct {
	hdr  *tar.Header
	sum  [32]byte
	body []byte
}

// layerFiles reads the image's single layer.
func layerFiles(t *testing.T, img v1.Image) map[string]layerFile {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]layerFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = layerFile{hdr: h, sum: sha256.Sum256(b), body: b}
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
