package dbbackup

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// RestoreResult says what Restore did.
type RestoreResult struct {
	Manifest *Manifest
	// Duration is how long pg_restore ran (checksum verification excluded).
	Duration time.Duration
}

// Restore verifies backup id (size and SHA-256; a mismatch wraps ErrCorrupt
// and nothing is touched) and restores it into the database at connString
// with pg_restore --clean --if-exists --single-transaction --exit-on-error:
// every object in the backup is dropped and recreated with the backed-up
// data, in one transaction, so a failed restore changes nothing. Objects
// created after the backup that it does not contain are left in place.
func (s *Store) Restore(ctx context.Context, id, connString string) (*RestoreResult, error) {
	m, err := s.Verify(id)
	if err != nil {
		return nil, err
	}
	d, err := s.restoreFile(ctx, m, connString)
	if err != nil {
		return nil, err
	}
	return &RestoreResult{Manifest: m, Duration: d}, nil
}

func (s *Store) restoreFile(ctx context.Context, m *Manifest, connString string) (time.Duration, error) {
	target, env, err := toolTarget(connString)
	if err != nil {
		return 0, err
	}
	cfg, _ := pgx.ParseConfig(connString)
	start := time.Now()
	err = s.runTool(ctx, env, cfg.Password, nil, "pg_restore", "--clean", "--if-exists", "--single-transaction",
		"--exit-on-error", "--dbname="+target, filepath.Join(s.Dir, m.File))
	if err != nil {
		return 0, fmt.Errorf("restore backup %s into database %s: %w (the restore ran in one transaction: nothing was changed)",
			m.ID, cfg.Database, err)
	}
	return time.Since(start), nil
}
