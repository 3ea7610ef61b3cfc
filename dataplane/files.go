package dataplane

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// The data plane's files in the server's data directory.
const (
	// SocketFile is the control socket (mode 0600).
	SocketFile = "proxy.sock"
	// RecordFile names the process serving the socket (JSON Record).
	RecordFile = "proxy.pid"
	// LogFile receives the process's log when the server starts it.
	LogFile = "proxy.log"
)

// Record is what RecordFile says of the running data plane.
type Record struct {
	PID    int
	BootID string
	Binary string
}

// WriteRecord replaces dir's RecordFile atomically (mode 0600).
func WriteRecord(dir string, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, RecordFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", RecordFile, err)
	}
	return os.Rename(tmp, filepath.Join(dir, RecordFile))
}

// ReadRecord reads dir's RecordFile.
func ReadRecord(dir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, RecordFile), err)
	}
	return r, nil
}

// BinaryID identifies the executable file at path by its device, inode,
// size and modification time: a rebuilt or reinstalled binary gets
// another, without reading the file.
func BinaryID(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("%s: no inode", path)
	}
	return fmt.Sprintf("%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano()), nil
}

// SelfID is BinaryID of this process's executable; empty when unknown.
func SelfID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	id, _ := BinaryID(exe)
	return id
}
