package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/dbbackup"
	"github.com/gantry-dev/gantry/migrate"
	"github.com/gantry-dev/gantry/rollout"
)

// BackupSchedule configures the daily backup of every app environment
// with a database (spec.database) while the server runs. The zero value
// backs up at 02:00 local time and keeps DefaultBackupKeepLast backups
// plus every backup younger than 30 days.
type BackupSchedule struct {
	// Disabled turns the schedule off.
	Disabled bool
	// TimeOfDay is when the daily backup runs, as time since local
	// midnight; 0: DefaultBackupTimeOfDay.
	TimeOfDay time.Duration
	// Interval, when set, replaces the daily run: a backup every Interval
	// from the server's start (tests use a short one).
	Interval time.Duration
	// MaxAge keeps backups younger than this; 0: dbbackup.DefaultMaxAge (30 days).
	MaxAge time.Duration
	// KeepLast keeps the newest KeepLast backups whatever their age; 0:
	// DefaultBackupKeepLast.
	KeepLast int
	// Drill, when set, runs a restore drill after each scheduled backup of
	// an environment: the newest good backup is restored into a scratch
	// database on the same PostgreSQL server (its user needs CREATEDB),
	// its row counts checked and the restore time and backup age judged
	// against DrillRTO and DrillRPO. Events: DrillPassed (Normal),
	// DrillTargetMissed and DrillFailed (Warning). False: no drill.
	Drill bool
	// DrillRTO and DrillRPO are the drill's targets; 0:
	// dbbackup.DefaultRTOTarget (4 h) and dbbackup.DefaultRPOTarget (1 h).
	DrillRTO, DrillRPO time.Duration
}

// Reasons of the scheduled drill's events.
const (
	ReasonDrillPassed       = rollout.ReasonDrillPassed
	ReasonDrillTargetMissed = rollout.ReasonDrillTargetMissed
	ReasonDrillFailed       = rollout.ReasonDrillFailed
)

// Defaults of BackupSchedule.
const (
	DefaultBackupTimeOfDay = 2 * time.Hour
	DefaultBackupKeepLast  = 7
)

// next returns when the schedule runs next after now.
func (b BackupSchedule) next(now time.Time) time.Time {
	if b.Interval > 0 {
		return now.Add(b.Interval)
	}
	tod := b.TimeOfDay
	if tod <= 0 {
		tod = DefaultBackupTimeOfDay
	}
	y, m, d := now.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).Add(tod)
	if !t.After(now) {
		t = time.Date(y, m, d+1, 0, 0, 0, 0, now.Location()).Add(tod)
	}
	return t
}

func (b BackupSchedule) retention() dbbackup.Retention {
	r := dbbackup.Retention{MaxAge: b.MaxAge, KeepLast: b.KeepLast}
	if r.MaxAge <= 0 {
		r.MaxAge = dbbackup.DefaultMaxAge
	}
	if r.KeepLast <= 0 {
		r.KeepLast = DefaultBackupKeepLast
	}
	return r
}

// runBackups is the schedule's actor: it backs up and prunes at every
// scheduled time until ctx ends.
func (s *Server) runBackups(ctx context.Context) {
	sched := s.opts.Backups
	if sched.Disabled {
		return
	}
	for {
		wait := time.Until(sched.next(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		s.backupAll(ctx, sched)
	}
}

// backupAll backs up and prunes every app environment with a database;
// an environment with a rollout migrating is skipped (it took its own).
func (s *Server) backupAll(ctx context.Context, sched BackupSchedule) {
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		s.opts.Logf("scheduled backup: list apps: %v", err)
		return
	}
	for _, a := range apps {
		for _, e := range a.Spec.Environments {
			if ctx.Err() != nil {
				return
			}
			db, err := s.backupEnv(ctx, a, e.Name, sched.retention())
			if err != nil {
				s.recordEvent(rollout.Event{App: a.Name, Env: e.Name, Type: rollout.Warning, Reason: rollout.ReasonScheduledBackupFailed,
					Message: err.Error(), Details: &rollout.Details{Error: err.Error()}})
				continue
			}
			if sched.Drill && db != nil {
				s.recordEvent(drillEvent(a.Name, e.Name, s.drill(ctx, *db, sched)))
			}
		}
	}
}

// backupEnv backs up and prunes one environment; it returns the
// environment's database, nil when there was nothing to back up.
func (s *Server) backupEnv(ctx context.Context, a rollout.AppRecord, env string, keep dbbackup.Retention) (*appDB, error) {
	resolved, err := a.Spec.Resolve(env)
	if err != nil || resolved.Database == nil {
		return nil, nil
	}
	stable := 0
	if rs, err := s.store.ListRollouts(ctx, rollout.RolloutFilter{App: a.Name, Env: env, Limit: 1}); err == nil && len(rs) > 0 {
		if rs[0].Phase == rollout.Migrating {
			return nil, nil
		}
		stable = rs[0].Stable()
	}
	b, err := s.databases.Backup(ctx, rollout.Revision{App: a.Name, Env: env, Spec: resolved}, stable)
	if err != nil {
		return nil, fmt.Errorf("scheduled backup: %w", err)
	}
	b.Scheduled = true
	s.recordEvent(rollout.Event{App: a.Name, Env: env, Type: rollout.Normal, Reason: rollout.ReasonDatabaseBackedUp,
		Message: rollout.BackupMessage(b), Details: &rollout.Details{Backup: &b}})
	db, err := s.databases.resolve(a.Name, env, resolved)
	if err != nil {
		return nil, err
	}
	removed, err := db.backups.Prune(keep, time.Now())
	if err != nil {
		return nil, fmt.Errorf("prune backups in %s: %w", db.backups.Dir, err)
	}
	if len(removed) > 0 {
		s.recordEvent(rollout.Event{App: a.Name, Env: env, Type: rollout.Normal, Reason: rollout.ReasonBackupsPruned,
			Message: fmt.Sprintf("removed %d backup(s) beyond %d days and the newest %d, oldest %s", len(removed), int(keep.MaxAge.Hours()/24), keep.KeepLast, removed[len(removed)-1].ID)})
	}
	return &db, nil
}

// drillResult is a scheduled drill's report, or why it could not run.
type drillResult struct {
	report *dbbackup.DrillReport
	err    error
}

// drill runs a restore drill on db's newest good backup.
func (s *Server) drill(ctx context.Context, db appDB, sched BackupSchedule) drillResult {
	rep, err := db.backups.Drill(ctx, dbbackup.DrillOptions{URL: db.url, RTOTarget: sched.DrillRTO, RPOTarget: sched.DrillRPO})
	return drillResult{report: rep, err: migrate.Redact(err, db.url)}
}

// drillEvent turns a drill's outcome into its event: Normal when every
// check passed, Warning when a target was missed, the row counts differ
// or the drill could not run.
func drillEvent(app, env string, d drillResult) rollout.Event {
	ev := rollout.Event{App: app, Env: env, Type: rollout.Warning}
	if d.err != nil {
		ev.Reason, ev.Message = ReasonDrillFailed, "scheduled drill: "+d.err.Error()
		return ev
	}
	r := d.report
	figures := fmt.Sprintf("backup %s restored in %v (target %v), %v old (target %v), %d table(s) checked",
		r.BackupID, r.RestoreTime.Round(time.Millisecond), r.RTOTarget, r.RPO.Round(time.Second), r.RPOTarget, len(r.Tables))
	switch err := r.Verdict(); {
	case err == nil:
		ev.Type, ev.Reason, ev.Message = rollout.Normal, ReasonDrillPassed, "scheduled drill: "+figures
	case errors.Is(err, dbbackup.ErrTargetMissed):
		ev.Reason, ev.Message = ReasonDrillTargetMissed, "scheduled drill: "+err.Error()+"; "+figures
	default:
		ev.Reason, ev.Message = ReasonDrillFailed, "scheduled drill: "+err.Error()+"; "+figures
	}
	return ev
}
