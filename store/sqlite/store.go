package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before it fails with "database is locked".
const BusyTimeout = 10 * time.Second

// Store is a rollout.Store in one SQLite file. It is safe for concurrent
// use by many goroutines; Close it when done.
type Store struct {
	// Store is the logic every SQL store shares, over this one's
	// connections.
	sqlstore.Store
	path   string
	writer *sql.DB // one connection: writes queue here
	reader *sql.DB // read-only connections
}

var _ rollout.Store = (*Store)(nil)

// options tune open; the zero value is what Open uses.
type options struct {
	// synchronous is SQLite's synchronous setting; "": NORMAL.
	synchronous string
}

// Open opens (creating when missing, with its parent directory) the SQLite
// database at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, options{})
}

func open(ctx context.Context, path string, o options) (*Store, error) {
	if o.synchronous == "" {
		o.synchronous = "NORMAL"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	params := url.Values{}
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "synchronous("+o.synchronous+")")
	params.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: params.Encode()}).String()

	writer, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	s := &Store{path: path, writer: writer}
	// The writer creates the file and sets WAL mode before any reader opens it.
	if err := s.migrate(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}

	params.Set("_query_only", "1")
	readDSN := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: params.Encode()}).String()
	reader, err := sql.Open("sqlite", readDSN)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	s.reader = reader
	s.Store = sqlstore.Store{DB: db{read: reader, write: writer}, Dialect: dialect, InsertRevision: s.insertRevision}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. Calls after Close fail.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// IntegrityCheck runs SQLite's integrity_check and returns nil when it
// reports "ok", else an error listing the problems found.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.reader.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("check integrity of %s: %w", s.path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("check integrity of %s: %w", s.path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check integrity of %s: %w", s.path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is damaged: %v", s.path, problems)
	}
	return nil
}

// micros encodes t for a time column: microseconds since the Unix epoch,
// NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Microsecond).UnixMicro()
}

// timeOf decodes a time column written by micros.
func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// storedTime returns t as a read gives it back: truncated to the
// microsecond, in UTC.
func storedTime(t time.Time) time.Time { return sqlstore.StoredTime(t) }
