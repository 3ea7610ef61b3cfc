// Command gantry-image builds gantry's OCI image without a container
// daemon: it compiles a static gantry binary (CGO_ENABLED=0) and writes
// the image (package deploy/image) as a tarball for `docker load`,
// `podman load` or `crane push`.
//
//	go run ./deploy/image/cmd/gantry-image -o gantry.tar -tag ghcr.io/gantry-dev/gantry:v1.0.0 -version v1.0.0
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gantry-dev/gantry/deploy/image"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gantry-image:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("o", "gantry.tar", "image tarball to write")
	tag := flag.String("tag", "ghcr.io/gantry-dev/gantry:dev", "the image's reference inside the tarball")
	version := flag.String("version", "dev", "version label")
	revision := flag.String("revision", "", "source commit label")
	binary := flag.String("binary", "", "an already built static gantry binary (default: build ./cmd/gantry)")
	arch := flag.String("arch", runtime.GOARCH, "target architecture")
	flag.Parse()
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("-tag %q: %w", *tag, err)
	}
	if *binary == "" {
		dir, err := os.MkdirTemp("", "gantry-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*binary = filepath.Join(dir, "gantry")
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", *binary, "./cmd/gantry")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+*arch)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build gantry: %w", err)
		}
	}
	img, err := image.Build(image.Options{Binary: *binary, Version: *version, Revision: *revision, Arch: *arch})
	if err != nil {
		return err
	}
	if err := tarball.WriteToFile(*out, ref, img); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	d, _ := img.Digest()
	fmt.Printf("%s %s (%s)\n", *out, ref, d)
	return nil
}
