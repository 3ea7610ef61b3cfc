package dbbackup

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/migrate"
	"github.com/jackc/pgx/v5"
)

// Targets from the deployment plan for production.
const (
	DefaultRTOTarget = 4 * time.Hour // longest acceptable time to restore
	DefaultRPOTarget = 1 * time.Hour // most data (as time) acceptable to lose
)

// ErrNoBackups is returned by Drill when the store holds no backup that
// passes verification.
var ErrNoBackups = errors.New("no usable backup")

// DrillOptions configure a restore drill.
type DrillOptions struct {
	// URL is any database on the server the drill restores onto; the scratch
	// database is created beside it and dropped afterwards. Required.
	URL string
	// Scratch names the scratch database. Empty: gantry_drill_<unix seconds>.
	Scratch string
	// Keep leaves the scratch database in place for inspection.
	Keep bool
	// RTOTarget and RPOTarget are what the drill is judged against. Zero:
	// DefaultRTOTarget and DefaultRPOTarget.
	RTOTarget, RPOTarget time.Duration
	// Now is the clock for the RPO. Nil: time.Now.
	Now func() time.Time
}

// TableCheck compares one table's rows after the restore with the manifest.
type TableCheck struct {
	Table string `json:"table"`
	Want  int64  `json:"want"` // recorded at backup time
	Got   int64  `json:"got"`  // counted after the restore; -1 if the table is missing
}

// Skipped is a newer backup the drill could not use.
type Skipped struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// DrillReport is what a drill measured.
type DrillReport struct {
	BackupID   string    `json:"backup_id"`
	BackupTime time.Time `json:"backup_time"`
	Skipped    []Skipped `json:"skipped,omitempty"`
	Scratch    string    `json:"scratch_database"`
	// RestoreTime is how long pg_restore took: the recovery time measured.
	RestoreTime time.Duration `json:"restore_time_ns"`
	// RPO is the age of the newest good backup when the drill ran: the data
	// a failure now would lose.
	RPO        time.Duration `json:"rpo_ns"`
	RTOTarget  time.Duration `json:"rto_target_ns"`
	RPOTarget  time.Duration `json:"rpo_target_ns"`
	MeetsRTO   bool          `json:"meets_rto"`
	MeetsRPO   bool          `json:"meets_rpo"`
	Tables     []TableCheck  `json:"tables"`
	Mismatches []TableCheck  `json:"mismatches,omitempty"`
	// OK is true when every table's row count matched.
	OK bool `json:"ok"`
}

// Drill restores the newest backup that passes verification into a scratch
// database, counts every table's rows and compares them with the manifest,
// and reports the restore time against the RTO target and the backup's age
// against the RPO target. Newer backups that fail verification are listed
// in Skipped. The scratch database is dropped unless Keep is set.
func (s *Store) Drill(ctx context.Context, opts DrillOptions) (*DrillReport, error) {
	if opts.RTOTarget == 0 {
		opts.RTOTarget = DefaultRTOTarget
	}
	if opts.RPOTarget == 0 {
		opts.RPOTarget = DefaultRPOTarget
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rep := &DrillReport{RTOTarget: opts.RTOTarget, RPOTarget: opts.RPOTarget}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var m *Manifest
	for _, cand := range all {
		if _, err := s.Verify(cand.ID); err != nil {
			rep.Skipped = append(rep.Skipped, Skipped{ID: cand.ID, Reason: err.Error()})
			continue
		}
		m = cand
		break
	}
	if m == nil {
		return rep, fmt.Errorf("%w in %s (%d backup(s), none passed verification): run `gantry db backup`", ErrNoBackups, s.Dir, len(all))
	}
	rep.BackupID, rep.BackupTime = m.ID, m.CreatedAt
	rep.RPO = now().Sub(m.CreatedAt)

	rep.Scratch = opts.Scratch
	if rep.Scratch == "" {
		rep.Scratch = fmt.Sprintf("gantry_drill_%d", now().Unix())
	}
	admin, err := migrate.Connect(ctx, opts.URL)
	if err != nil {
		return rep, err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{rep.Scratch}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return rep, fmt.Errorf("drill: create scratch database %s: %w", rep.Scratch, err)
	}
	if !opts.Keep {
		defer admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	}
	scratchURL, err := withDatabase(opts.URL, rep.Scratch)
	if err != nil {
		return rep, err
	}
	if rep.RestoreTime, err = s.restoreFile(ctx, m, scratchURL); err != nil {
		return rep, fmt.Errorf("drill: %w", err)
	}
	rep.MeetsRTO = rep.RestoreTime <= rep.RTOTarget
	rep.MeetsRPO = rep.RPO <= rep.RPOTarget

	conn, err := migrate.Connect(ctx, scratchURL)
	if err != nil {
		return rep, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	got, err := countRows(ctx, conn)
	if err != nil {
		return rep, fmt.Errorf("drill: %w", err)
	}
	names := make([]string, 0, len(m.TableRows))
	for t := range m.TableRows {
		names = append(names, t)
	}
	for t := range got {
		if _, ok := m.TableRows[t]; !ok {
			names = append(names, t)
		}
	}
	sort.Strings(names)
	for _, t := range names {
		want, ok := m.TableRows[t]
		if !ok {
			want = -1
		}
		g, ok := got[t]
		if !ok {
			g = -1
		}
		c := TableCheck{Table: t, Want: want, Got: g}
		rep.Tables = append(rep.Tables, c)
		if want != g {
			rep.Mismatches = append(rep.Mismatches, c)
		}
	}
	rep.OK = len(rep.Mismatches) == 0
	return rep, nil
}

// withDatabase returns connString naming database db instead.
func withDatabase(connString, db string) (string, error) {
	if u, err := url.Parse(connString); err == nil && u.Scheme != "" {
		u.Path = "/" + db
		return u.String(), nil
	}
	var parts []string
	for _, f := range strings.Fields(connString) {
		if !strings.HasPrefix(f, "dbname=") {
			parts = append(parts, f)
		}
	}
	return strings.Join(append(parts, "dbname="+db), " "), nil
}

// Verdicts of a drill that completed, for callers to branch on.
var (
	// ErrTargetMissed: the restore took longer than the RTO target, or the
	// newest good backup was older than the RPO target.
	ErrTargetMissed = errors.New("drill missed its recovery targets")
	// ErrRowMismatch: a restored table's row count differs from the
	// backup's manifest.
	ErrRowMismatch = errors.New("restored row counts differ from the backup")
)

// Verdict judges a completed drill: nil when every row count matched and
// both targets were met; otherwise an error wrapping ErrRowMismatch (which
// wins: the backup itself is suspect) or ErrTargetMissed, with the
// measured figures and the targets.
func (r *DrillReport) Verdict() error {
	if !r.OK {
		return fmt.Errorf("%w: %d table(s) do not match the backup's row counts", ErrRowMismatch, len(r.Mismatches))
	}
	var missed []string
	if !r.MeetsRTO {
		missed = append(missed, fmt.Sprintf("RTO: restore took %v, target %v", r.RestoreTime.Round(time.Millisecond), r.RTOTarget))
	}
	if !r.MeetsRPO {
		missed = append(missed, fmt.Sprintf("RPO: newest good backup %s is %v old, target %v", r.BackupID, r.RPO.Round(time.Second), r.RPOTarget))
	}
	if len(missed) > 0 {
		return fmt.Errorf("%w: %s", ErrTargetMissed, strings.Join(missed, "; "))
	}
	return nil
}
