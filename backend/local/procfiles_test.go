package local

import (
	"os"
	"testing"
)

func TestFilesOf(t *testing.T) {
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := filesOf([]int{os.Getpid()})
	// The standard streams and f at least.
	if !got.ok || got.openFiles < 4 {
		t.Fatalf("filesOf of this process = %+v, want it read with at least 4 open files", got)
	}
	if got := filesOf([]int{1 << 30}); !got.ok || got.openFiles != 0 {
		t.Errorf("filesOf of a process that does not exist = %+v, want nothing counted", got)
	}
	if got := filesOf(nil); got.ok {
		t.Errorf("filesOf of no process = %+v, want unknown", got)
	}
}
