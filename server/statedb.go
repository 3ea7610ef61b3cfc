package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// StateDatabaseKind is the kind of state store a server uses.
type StateDatabaseKind int

// State database kinds.
const (
	// SQLite: one file, one server (the embedded default).
	SQLite StateDatabaseKind = iota + 1
	// PostgreSQL: shared by one or more servers, one of which leads.
	PostgreSQL
)

// String returns "sqlite" or "postgres".
func (k StateDatabaseKind) String() string {
	switch k {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "postgres"
	}
	return fmt.Sprintf("StateDatabaseKind(%d)", int(k))
}

// StateDatabase says where a server keeps its state.
type StateDatabase struct {
	Kind StateDatabaseKind
	// Path is the SQLite file (Kind SQLite).
	Path string
	// URL is the PostgreSQL connection string, a postgres:// URL or a libpq
	// key=value string, with the password when one was given (Kind
	// PostgreSQL). Never print it: print Redacted.
	URL string
}

// ParseStateDatabase reads a --database value: "" is SQLite at
// <dataDir>/gantry.db; sqlite:///path/gantry.db is SQLite at that path
// (sqlite://relative/path too); postgres://… or postgresql://… or a libpq
// key=value string ("host=db dbname=gantry") is PostgreSQL. passwordFile,
// when not empty, holds the PostgreSQL password (trailing newline ignored);
// otherwise the password comes from the URL, PGPASSWORD or a passfile
// (~/.pgpass, PGPASSFILE), as with libpq.
func ParseStateDatabase(raw, dataDir, passwordFile string) (StateDatabase, error) {
	switch {
	case raw == "":
		return StateDatabase{Kind: SQLite, Path: filepath.Join(dataDir, "gantry.db")}, nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if p == "" {
			return StateDatabase{}, errors.New("--database sqlite://: no path; write sqlite:///absolute/path/gantry.db")
		}
		return StateDatabase{Kind: SQLite, Path: p}, nil
	}
	d := StateDatabase{Kind: PostgreSQL, URL: raw}
	isURL := strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://")
	if !isURL && !strings.Contains(raw, "=") {
		return StateDatabase{}, fmt.Errorf("--database %q: want postgres://user@host:5432/gantry, a libpq key=value string, or sqlite:///path/gantry.db", redact(raw))
	}
	if passwordFile == "" {
		return d, nil
	}
	b, err := os.ReadFile(passwordFile)
	if err != nil {
		return StateDatabase{}, fmt.Errorf("--database-password-file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if isURL {
		u, err := url.Parse(raw)
		if err != nil {
			return StateDatabase{}, fmt.Errorf("--database %s: %v", redact(raw), errors.Unwrap(err))
		}
		user := ""
		if u.User != nil {
			user = u.User.Username()
		}
		u.User = url.UserPassword(user, pw)
		d.URL = u.String()
	} else {
		d.URL = raw + " password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
	}
	return d, nil
}

// Redacted is the database's location without its password, for logs.
func (d StateDatabase) Redacted() string {
	if d.Kind == SQLite {
		return "sqlite://" + d.Path
	}
	return redact(d.URL)
}

var kvPassword = regexp.MustCompile(`password\s*=\s*('(\\.|[^'])*'|\S+)`)

// redact hides the password of a postgres:// URL or key=value string.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(s, "password=xxxxx")
}

// stateStore is a rollout.Store the server closes when it stops.
type stateStore interface {
	rollout.Store
	Close() error
}

// openStore opens the state store d names.
func openStore(ctx context.Context, d StateDatabase) (stateStore, error) {
	switch d.Kind {
	case SQLite:
		st, err := sqlite.Open(ctx, d.Path)
		if err != nil {
			return nil, fmt.Errorf("open state store: %w", err)
		}
		return st, nil
	case PostgreSQL:
		st, err := postgres.Open(ctx, d.URL)
		if err != nil {
			return nil, fmt.Errorf("open state store %s: %w", d.Redacted(), err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("open state store: unknown database kind %s", d.Kind)
}
