package migrate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoURL is returned when no database was named.
var ErrNoURL = errors.New("no database URL: pass --url postgres://user@host:5432/dbname or set GANTRY_DATABASE_URL")

// Connect opens one connection to the database at connString (a postgres://
// URL or key=value string). The password may be in connString, in
// PGPASSWORD, or in a password file (PGPASSFILE, ~/.pgpass), as for psql.
// Errors never contain the password: URLs in them are redacted.
func Connect(ctx context.Context, connString string) (*pgx.Conn, error) {
	if strings.TrimSpace(connString) == "" {
		return nil, ErrNoURL
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, Redact(fmt.Errorf("parse database URL %s: %w", RedactURL(connString), err), "")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		hint := "check that the server runs and --url names the right host and port"
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch pgErr.Code {
			case "28P01", "28000":
				hint = "check the user name and password (in the URL, PGPASSWORD or the password file)"
			case "3D000":
				hint = "create the database or fix its name in --url"
			}
		}
		return nil, Redact(fmt.Errorf("connect to %s: %w (%s)", RedactURL(connString), err, hint), cfg.Password)
	}
	return conn, nil
}

var (
	urlPassword = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
)

// RedactURL returns connString with any password replaced by "xxxxx", for
// messages and logs. It handles postgres:// URLs and key=value strings.
func RedactURL(connString string) string {
	if u, err := url.Parse(connString); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
		return connString
	}
	s := urlPassword.ReplaceAllString(connString, "${1}xxxxx@")
	return kvPassword.ReplaceAllString(s, "${1}xxxxx")
}

// Redact wraps err so that its message never shows secret (when not empty)
// nor a password inside a connection string. errors.Is and errors.As still
// see the wrapped error.
func Redact(err error, secret string) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, secret: secret}
}

type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	s := RedactURL(e.err.Error())
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	s = kvPassword.ReplaceAllString(s, "${1}xxxxx")
	if e.secret != "" {
		s = strings.ReplaceAll(s, e.secret, "xxxxx")
	}
	return s
}

func (e *redactedError) Unwrap() error { return e.err }
