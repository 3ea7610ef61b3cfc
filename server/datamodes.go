package server

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of the data directory and what it holds: the state database (and
// its WAL), instance logs, the admin token and backups may hold secrets,
// so only the server's own user may read them.
const (
	dataDirMode  fs.FileMode = 0o700
	dataFileMode fs.FileMode = 0o600
)

// secureDataDir creates dir with mode 0700, or, when it exists, takes the
// group and other permission bits off it and off everything under it
// (directories to at most 0700, files to at most 0600), so a data
// directory made by an older gantry or by hand is tightened, not trusted.
// It logs what it tightened.
func secureDataDir(dir string, logf func(string, ...any)) error {
	if err := os.MkdirAll(dir, dataDirMode); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	var dirs, files int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 || !d.Type().IsRegular() && !d.IsDir() {
			return nil // never follow a link out of the directory; leave sockets alone
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 == 0 {
			return nil
		}
		if err := os.Chmod(path, info.Mode().Perm()&^0o077); err != nil {
			return fmt.Errorf("tighten the mode of %s: %w", path, err)
		}
		if d.IsDir() {
			dirs++
		} else {
			files++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("secure data directory %s: %w", dir, err)
	}
	if dirs+files > 0 {
		logf("data directory %s: took group and other permissions off %d director(ies) and %d file(s); it holds secrets, so only this user may read it",
			dir, dirs, files)
	}
	return nil
}

// createPrivate creates the SQLite database at path with mode 0600 when
// it does not exist (SQLite gives its -wal and -shm files the database's
// mode), and tightens it and them when they exist with looser modes: the
// database may live outside the data directory (--database sqlite://...).
func createPrivate(path string, logf func(string, ...any)) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, dataFileMode)
	if err != nil {
		return fmt.Errorf("create state database %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if err != nil || info.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, info.Mode().Perm()&^0o077); err != nil {
			return fmt.Errorf("tighten the mode of %s: %w", p, err)
		}
		logf("state database file %s was readable by others (mode %v); now %v", p, info.Mode().Perm(), info.Mode().Perm()&^0o077)
	}
	return nil
}
