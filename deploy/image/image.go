// Package image builds gantry's OCI image without a container daemon,
// with go-containerregistry: one layer on an empty base holding the static
// gantry binary at /gantry, an /etc/passwd and /etc/group naming the
// non-root user it runs as (65532, "gantry") and a writable /data; the
// configuration's entrypoint is `/gantry server` as that user, with the
// org.opencontainers.image.* labels. `go run ./deploy/image/cmd/gantry-image`
// builds the binary and writes the image as an OCI layout directory (for
// crane, skopeo, podman) or a tarball (`docker load`, `podman load`).
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User and Group are the numeric IDs gantry runs as.
const (
	User  = 65532
	Group = 65532
)

// Entrypoint is what the image runs; Cmd its default arguments (the API
// on every interface, state under /data): arguments given to the
// container replace Cmd only.
var (
	Entrypoint = []string{"/gantry", "server"}
	Cmd        = []string{"--data=/data", "--listen=:7070"}
)

// Options describe the image.
type Options struct {
	// Binary is the path of a static gantry binary (CGO_ENABLED=0). Required.
	Binary string
	// Version labels the image (org.opencontainers.image.version). Empty: "dev".
	Version string
	// Revision is the source's commit (org.opencontainers.image.revision).
	Revision string
	// Created stamps the image; zero: the Unix epoch, so that a build is
	// reproducible.
	Created time.Time
	// Arch is the platform's architecture. Empty: amd64.
	Arch string
}

// Build returns the image: one layer on an empty base, OCI media types.
func Build(o Options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("gantry binary: %w", err)
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	layerTar, err := rootfs(bin, o.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, fmt.Errorf("image layer: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = o.Arch, "linux"
	cfg.Created = v1.Time{Time: o.Created.UTC()}
	cfg.Config = v1.Config{
		Entrypoint:   Entrypoint,
		Cmd:          Cmd,
		User:         fmt.Sprintf("%d:%d", User, Group),
		WorkingDir:   "/data",
		Env:          []string{"PATH=/", "HOME=/data"},
		ExposedPorts: map[string]struct{}{"7070/tcp": {}, "8080/tcp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
		Labels:       Labels(o),
	}
	return mutate.ConfigFile(img, cfg)
}

// Labels are the image's labels: the org.opencontainers.image.*
// annotation keys of the OCI image spec.
func Labels(o Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "gantry",
		"org.opencontainers.image.description": "Progressive-delivery engine: rolling, blue-green and canary rollouts with automatic rollback",
		"org.opencontainers.image.source":      "https://github.com/gantry-dev/gantry",
		"org.opencontainers.image.version":     o.Version,
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	return l
}

// rootfs is the layer: /gantry, /etc/passwd, /etc/group, /data, /tmp.
func rootfs(bin []byte, mod time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: uid, Gid: uid, ModTime: mod})
	}
	file := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: mod}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\ngantry:x:%d:%d:gantry:/data:/sbin/nologin\n", User, Group)
	group := fmt.Sprintf("root:x:0:\ngantry:x:%d:\n", Group)
	for _, step := range []func() error{
		func() error { return dir("etc/", 0o755, 0) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return dir("data/", 0o700, User) },
		func() error { return dir("tmp/", 0o1777, 0) },
		func() error { return file("gantry", 0o755, bin) },
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("image layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
