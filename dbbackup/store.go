package dbbackup

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ErrNotFound is returned for a backup ID the store does not hold.
var ErrNotFound = errors.New("backup not found")

// ErrCorrupt is returned when a dump's size or SHA-256 differs from its
// manifest: it was truncated or altered, and is not restored.
var ErrCorrupt = errors.New("backup is corrupt")

// Store is a directory of backups.
type Store struct {
	// Dir holds <id>.dump and <id>.json files.
	Dir string
	// BinDir holds pg_dump and pg_restore. Empty: they are looked up on PATH.
	BinDir string
}

// Open returns the store in dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("no backup directory: pass --backup-dir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup directory %s: %w", dir, err)
	}
	return &Store{Dir: dir}, nil
}

func (s *Store) bin(name string) string {
	if s.BinDir != "" {
		return filepath.Join(s.BinDir, name)
	}
	return name
}

func newID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// List returns every complete backup, newest first.
func (s *Store) List() ([]*Manifest, error) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("list backups in %s: %w", s.Dir, err)
	}
	var out []*Manifest
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		m, err := s.Get(id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// Get returns the manifest of backup id.
func (s *Store) Get(id string) (*Manifest, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return nil, fmt.Errorf("%w: %q is not a backup ID (see `gantry db backups`)", ErrNotFound, id)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no backup %q in %s (see `gantry db backups`)", ErrNotFound, id, s.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read backup manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("backup manifest %s: %w", filepath.Join(s.Dir, id+".json"), err)
	}
	return &m, nil
}

// Verify checks that backup id's dump has the size and SHA-256 its manifest
// records, and returns the manifest. A mismatch wraps ErrCorrupt.
func (s *Store) Verify(id string) (*Manifest, error) {
	m, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.Dir, m.File)
	f, err := os.Open(path)
	if err != nil {
		return m, fmt.Errorf("%w: backup %s: %w", ErrCorrupt, id, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return m, fmt.Errorf("read backup %s: %w", path, err)
	}
	if n != m.SizeBytes {
		return m, fmt.Errorf("%w: %s is %d bytes but its manifest recorded %d (truncated?); refusing to use it, pick another backup",
			ErrCorrupt, path, n, m.SizeBytes)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != m.SHA256 {
		return m, fmt.Errorf("%w: %s has SHA-256 %s but its manifest recorded %s (altered?); refusing to use it, pick another backup",
			ErrCorrupt, path, sum, m.SHA256)
	}
	return m, nil
}

// writeManifest stores m atomically: a reader sees the whole manifest or none.
func (s *Store) writeManifest(m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, "."+m.ID+".json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, m.ID+".json")); err != nil {
		return fmt.Errorf("write backup manifest: %w", err)
	}
	return nil
}

// remove deletes a backup: manifest first, so a half-removed backup is
// never listed.
func (s *Store) remove(m *Manifest) error {
	if err := os.Remove(filepath.Join(s.Dir, m.ID+".json")); err != nil {
		return fmt.Errorf("remove backup %s: %w", m.ID, err)
	}
	if err := os.Remove(filepath.Join(s.Dir, m.File)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove backup %s: %w", m.ID, err)
	}
	return nil
}
