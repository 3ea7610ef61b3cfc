package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand_relativeToBaseDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("PATH", t.TempDir()) // "app" is on no PATH: only the base dir finds it
	for _, tc := range []struct{ base, command string }{
		{".", "./app"}, // Join(".", "./app") is "app": must not become a PATH lookup
		{dir, "./app"},
		{filepath.Dir(dir), "./" + filepath.Base(dir) + "/app"},
	} {
		if err := CheckCommand(tc.base, tc.command); err != nil {
			t.Errorf("CheckCommand(%q, %q) = %v, want nil", tc.base, tc.command, err)
		}
	}
	err := CheckCommand(".", "./missing")
	if err == nil || !strings.Contains(err.Error(), `"./missing" cannot be run`) {
		t.Errorf("CheckCommand of a missing file = %v, want an error naming it", err)
	}
	if err := CheckCommand(".", "app"); err == nil {
		t.Errorf("CheckCommand of a plain name not on PATH = nil, want an error")
	}
}
