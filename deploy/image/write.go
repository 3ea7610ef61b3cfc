package image

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteLayout writes img into an OCI image layout directory (created when
// missing; an existing layout gains the image), its index entry annotated
// with ref as org.opencontainers.image.ref.name, so that
// `skopeo copy oci:DIR:REF docker://…` or `crane push DIR` find it.
func WriteLayout(dir string, ref name.Tag, img v1.Image) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("OCI layout %s: %w", dir, err)
		}
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref.TagStr(),
	})); err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return nil
}

// WriteTarball writes img as a tarball that `docker load` and `podman
// load` read, tagged ref.
func WriteTarball(path string, ref name.Tag, img v1.Image) error {
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		os.Remove(path)
		return fmt.Errorf("image tarball %s: %w", path, err)
	}
	return nil
}
