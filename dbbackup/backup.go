package dbbackup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gantry-dev/gantry/migrate"
	"github.com/jackc/pgx/v5"
)

// BackupOptions describe one backup.
type BackupOptions struct {
	// AppRevision is recorded in the manifest (a release or commit). Optional.
	AppRevision string
	// HistorySchema and HistoryTable locate the migration history the
	// schema version is read from. Empty: the current schema and
	// migrate.DefaultTable.
	HistorySchema, HistoryTable string
}

// Backup dumps the database at connString with pg_dump -Fc into the store
// and writes its manifest. The row counts and schema version are read in
// the same snapshot pg_dump dumps, so they describe exactly the dump.
func (s *Store) Backup(ctx context.Context, connString string, opts BackupOptions) (*Manifest, error) {
	target, env, err := toolTarget(connString)
	if err != nil {
		return nil, err
	}
	conn, err := migrate.Connect(ctx, connString)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	start := time.Now()
	m := &Manifest{ID: newID(start), Format: "custom", CreatedAt: start.UTC(), AppRevision: opts.AppRevision}
	m.File = m.ID + ".dump"
	m.Database = conn.Config().Database

	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("backup: begin snapshot: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot(), current_setting('server_version')").Scan(&snapshot, &m.ServerVersion); err != nil {
		return nil, fmt.Errorf("backup: export snapshot: %w", err)
	}
	if m.TableRows, err = countRows(ctx, tx); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	v, err := migrate.CurrentVersion(ctx, tx, opts.HistorySchema, opts.HistoryTable)
	if err != nil {
		return nil, fmt.Errorf("backup: read schema version: %w", err)
	}
	m.SchemaVersion = v.String()

	tmp, err := os.CreateTemp(s.Dir, ".dump-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := s.runTool(ctx, env, conn.Config().Password, tmp, "pg_dump", "--format=custom", "--snapshot="+snapshot,
		"--dbname="+target); err != nil {
		return nil, fmt.Errorf("backup of %s: %w", m.Database, err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m.DurationMillis = time.Since(start).Milliseconds()
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	if m.SizeBytes, err = io.Copy(h, tmp); err != nil {
		return nil, fmt.Errorf("backup: hash dump: %w", err)
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(tmp.Name(), filepath.Join(s.Dir, m.File)); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := s.writeManifest(m); err != nil {
		return nil, err
	}
	return m, nil
}

// countRows counts the rows of every ordinary table outside the system
// schemas.
func countRows(ctx context.Context, q migrate.Querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var names []pgx.Identifier
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, pgx.Identifier{schema, name})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	counts := make(map[string]int64, len(names))
	for _, id := range names {
		r, err := q.Query(ctx, "SELECT count(*) FROM "+id.Sanitize())
		if err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", id.Sanitize(), err)
		}
		var n int64
		for r.Next() {
			err = r.Scan(&n)
		}
		r.Close()
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("count rows of %s: %w", id.Sanitize(), err)
		}
		counts[id[0]+"."+id[1]] = n
	}
	return counts, nil
}
