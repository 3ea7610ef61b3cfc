package dataplane

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// BinaryHash is the SHA-256 of the file at path, hex.
func BinaryHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SelfHash is the SHA-256 of this process's executable; empty when it
// cannot be read.
func SelfHash() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	h, _ := BinaryHash(exe)
	return h
}
