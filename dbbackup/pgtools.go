package dbbackup

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/gantry-dev/gantry/migrate"
	"github.com/jackc/pgx/v5"
)

var kvPassword = regexp.MustCompile(`(?i)(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// toolTarget returns the connection string to hand pg_dump or pg_restore
// without its password, and the environment carrying the password (from
// the string itself, PGPASSWORD or the password file, as pgx resolved it)
// in PGPASSWORD, so it never shows in a process listing.
func toolTarget(connString string) (string, []string, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return "", nil, migrate.Redact(fmt.Errorf("parse database URL %s: %w", migrate.RedactURL(connString), err), "")
	}
	target := connString
	if u, err := url.Parse(connString); err == nil && u.Scheme != "" {
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		target = u.String()
	} else {
		target = strings.TrimSpace(kvPassword.ReplaceAllString(connString, "$1"))
	}
	env := os.Environ()
	if cfg.Password != "" {
		env = append(env, "PGPASSWORD="+cfg.Password)
	}
	return target, env, nil
}

// runTool runs a PostgreSQL client program, returning its stderr in the
// error when it fails. The password never reaches the arguments.
func (s *Store) runTool(ctx context.Context, env []string, secret string, stdout *os.File, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin(name), args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + " ..."
		}
		return migrate.Redact(fmt.Errorf("%s: %w: %s", name, err, msg), secret)
	}
	return nil
}
