package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMajorOf(t *testing.T) {
	tests := []struct {
		dir  string
		want int
	}{
		{"/usr/lib/postgresql/15/bin", 15},
		{"/usr/lib/postgresql/9.6/bin", 9},
		{"/usr/lib/postgresql/devel/bin", 0},
	}
	for _, tc := range tests {
		if got := majorOf(tc.dir); got != tc.want {
			t.Errorf("majorOf(%q) = %d, want %d", tc.dir, got, tc.want)
		}
	}
}

func TestHasPrograms(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("initdb", 0o755)
	if hasPrograms(dir) {
		t.Errorf("hasPrograms with initdb alone = true, want false")
	}
	write("postgres", 0o644)
	if hasPrograms(dir) {
		t.Errorf("hasPrograms with a postgres that is not executable = true, want false")
	}
	os.Chmod(filepath.Join(dir, "postgres"), 0o755)
	if !hasPrograms(dir) {
		t.Errorf("hasPrograms with both programs = false, want true")
	}
}
