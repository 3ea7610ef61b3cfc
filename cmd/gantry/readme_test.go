package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADME_Walkthrough runs the README's walkthrough exactly as written,
// in a copy of the repository and in a network namespace of its own (so
// its fixed ports take nothing from the machine), and checks what it
// prints.
func TestREADME_Walkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gantry and runs two rollouts")
	}
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		t.Skipf("no unprivileged network namespaces here (unshare -rn: %v)", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Walkthrough\n.*?```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ## Walkthrough with a sh block")
	}
	dir := t.TempDir()
	copyRepo(t, "../..", dir)
	script := "set -e\nip link set lo up\n" + string(m[1])
	cmd := exec.Command("unshare", "-rn", "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GANTRY_SERVER=", "GANTRY_TOKEN=", "GANTRY_CONFIG=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"gemini-api: valid; 3 environments",
		"app gemini-api created",
		"rollout 1 Succeeded",
		"rolled back: exit 2",
		"CrashLoop",
		"1:100%   3/3",
		`"version":"v1.0.0"`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("walkthrough output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "warning:") {
		t.Errorf("the walkthrough warns:\n%s", out.String())
	}
}

// copyRepo copies the repository's sources (not .git, not build output)
// from src to dst.
func copyRepo(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (rel == ".git" || rel == ".gantry" || strings.HasPrefix(d.Name(), ".gantry")) {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || rel == "gantry" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
