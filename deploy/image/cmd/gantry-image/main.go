// Command gantry-image builds gantry's OCI image without a container
// daemon: it compiles a static gantry binary (CGO_ENABLED=0, linux) and
// writes the image (package deploy/image) as an OCI layout directory
// (-layout) for skopeo, crane or podman, or a tarball (-o) for
// `docker load` and `podman load`.
//
//	go run ./deploy/image/cmd/gantry-image -layout gantry-oci -tag ghcr.io/gantry-dev/gantry:v1.0.0 -version v1.0.0
//	skopeo copy oci:gantry-oci:v1.0.0 docker://ghcr.io/gantry-dev/gantry:v1.0.0
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/gantry-dev/gantry/deploy/image"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gantry-image:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("o", "", "image tarball to write (docker load, podman load)")
	dir := flag.String("layout", "", "OCI image layout directory to write the image into (created when missing)")
	tag := flag.String("tag", "ghcr.io/gantry-dev/gantry:dev", "the image's reference")
	version := flag.String("version", "dev", "org.opencontainers.image.version label")
	revision := flag.String("revision", "", "org.opencontainers.image.revision label: the source's commit")
	binary := flag.String("binary", "", "an already built static linux gantry binary (default: build ./cmd/gantry with CGO_ENABLED=0)")
	arch := flag.String("arch", runtime.GOARCH, "target architecture (GOARCH)")
	flag.Parse()
	if *out == "" && *dir == "" {
		return fmt.Errorf("nothing to write: give -layout DIR (OCI layout) or -o FILE (tarball), or both")
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("-tag %q: %w", *tag, err)
	}
	if *binary == "" {
		tmp, err := os.MkdirTemp("", "gantry-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*binary = filepath.Join(tmp, "gantry")
		if err := image.BuildBinary(*binary, *arch); err != nil {
			return err
		}
	}
	img, err := image.Build(image.Options{Binary: *binary, Version: *version, Revision: *revision, Arch: *arch})
	if err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if *dir != "" {
		if err := image.WriteLayout(*dir, ref, img); err != nil {
			return err
		}
		fmt.Printf("%s: %s %s\n", *dir, ref, d)
	}
	if *out != "" {
		if err := image.WriteTarball(*out, ref, img); err != nil {
			return err
		}
		fmt.Printf("%s: %s %s\n", *out, ref, d)
	}
	return nil
}
