package deploy_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helmModule is the helm the chart is checked with, built from the Go
// module proxy.
const (
	helmModule  = "helm.sh/helm/v3"
	helmVersion = "v3.22.0"
)

// helm returns a helm binary: built once from the Go module proxy into
// the user's cache directory ($XDG_CACHE_HOME/gantry-test/helm-v3.22.0)
// and reused. The test skips, saying so, only when the module proxy cannot
// be reached; a build that fails otherwise fails the test.
func helm(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gantry-test", "helm-"+helmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	// Download first, to tell an unreachable proxy from a broken build.
	dl := exec.Command("go", "mod", "download", helmModule+"@"+helmVersion)
	dl.Dir = os.TempDir() // outside gantry's module
	if out, err := dl.CombinedOutput(); err != nil {
		t.Skipf("cannot download %s@%s from the Go module proxy (%s): %v\n%s", helmModule, helmVersion, goEnv("GOPROXY"), err, out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	build := exec.Command("go", "install", helmModule+"/cmd/helm@"+helmVersion)
	build.Dir = os.TempDir()
	build.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build helm %s: %v\n%s", helmVersion, err, out)
	}
	// Renamed into place: a concurrent test never runs a half-written binary.
	if err := os.Rename(filepath.Join(tmp, "helm"), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func goEnv(name string) string {
	out, _ := exec.Command("go", "env", name).Output()
	return strings.TrimSpace(string(out))
}

// helmTemplate renders the chart with args (--set ...) and returns the
// path of the rendered manifests.
func helmTemplate(t *testing.T, namespace string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), helm(t), append([]string{"template", "gantry", "helm/gantry", "--namespace", namespace}, args...)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("helm template: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("helm template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "rendered.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
