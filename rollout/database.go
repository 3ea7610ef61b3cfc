package rollout

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// DatabaseMigrator backs up and migrates an app's database
// (spec.database) as part of a rollout. The engine calls it from a
// background job per rollout, never from its reconcile loop, so a long
// backup or migration holds up no other environment. Implemented in
// package server with package migrate and package dbbackup.
type DatabaseMigrator interface {
	// Backup dumps rev's database and records rev's stable revision as the
	// app revision the backup belongs to.
	Backup(ctx context.Context, rev Revision, appRevision int) (DatabaseBackup, error)
	// Migrate applies rev's pending migrations, then validates the history
	// against the files. Its error names the file and the database's error.
	Migrate(ctx context.Context, rev Revision) (DatabaseMigration, error)
	// Restore restores backup id into rev's database.
	Restore(ctx context.Context, rev Revision, id string) (DatabaseRestore, error)
	// Undo runs undo migrations until the schema is at version toVersion
	// ("" : undo everything applied).
	Undo(ctx context.Context, rev Revision, toVersion string) (DatabaseMigration, error)
	// Status reads the history table: the schema version and whether every
	// migration of rev is applied and valid.
	Status(ctx context.Context, rev Revision) (SchemaStatus, error)
}

// DatabaseBackup is one backup taken before a migration.
type DatabaseBackup struct {
	// ID names the backup in its store (dbbackup's manifest ID).
	ID        string `json:"id"`
	SizeBytes int64  `json:"sizeBytes"`
	// Duration is how long the backup took (JSON: nanoseconds).
	Duration time.Duration `json:"duration"`
	// SchemaVersion is the schema version the backup holds; "" when none.
	SchemaVersion string `json:"schemaVersion,omitempty"`
	// Scheduled: taken on the backup schedule, not before a migration.
	Scheduled bool `json:"scheduled,omitempty"`
}

// DatabaseMigration says what Migrate or Undo did.
type DatabaseMigration struct {
	// From and To are the schema versions before and after; "" when none.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Scripts are the migration files that ran, in order.
	Scripts []string `json:"scripts,omitempty"`
	// Duration is how long it took (JSON: nanoseconds).
	Duration time.Duration `json:"duration"`
}

// DatabaseRestore says what Restore did.
type DatabaseRestore struct {
	BackupID      string `json:"backupId"`
	SchemaVersion string `json:"schemaVersion,omitempty"`
	// Duration is how long the restore took (JSON: nanoseconds).
	Duration time.Duration `json:"duration"`
}

// SchemaStatus is the state of a database's migration history.
type SchemaStatus struct {
	// Current is the schema version; "" when none.
	Current string
	// UpToDate says every migration is applied and the history validates.
	UpToDate bool
	// Detail says what is pending or wrong when not UpToDate.
	Detail string
}

// dbJob is one rollout's database work running in the background.
type dbJob struct {
	app, env string
	done     chan struct{}
	// err is set when the migration failed (the database was already
	// restored or undone); nil: migrated and valid.
	err error
}

// dbJobs tracks the background database jobs of an engine, by rollout ID.
type dbJobs struct {
	mu   sync.Mutex
	jobs map[int64]*dbJob
}

// dbJobs returns the engine's jobs.
func (e *Engine) dbJobs() *dbJobs { return e.databaseJobs }

// busy reports whether a job of another rollout of app and env still runs.
func (j *dbJobs) busy(app, env string, except int64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, job := range j.jobs {
		select {
		case <-job.done:
			if id != except {
				delete(j.jobs, id)
			}
			continue
		default:
		}
		if id != except && job.app == app && job.env == env {
			return true
		}
	}
	return false
}

// needsMigration reports whether r's target revision has a database this
// engine migrates.
func (e *Engine) needsMigration(ctx context.Context, r Rollout) (bool, error) {
	target, err := e.revision(ctx, r.App, r.Env, r.ToRevision)
	if err != nil {
		return false, err
	}
	if target.Spec.Database == nil {
		return false, nil
	}
	switch {
	case e.opts.Database == nil:
		e.event(ctx, r, Warning, ReasonMigrationSkipped, "this gantry migrates no databases: spec.database is ignored", "gantry")
		return false, nil
	case r.Cause == ReasonDatabaseRollback:
		e.event(ctx, r, Normal, ReasonMigrationSkipped, "started by gantry db rollback: the database was restored for this revision", "gantry")
		return false, nil
	}
	return true, nil
}

// startMigrating moves a Pending rollout to Migrating, written first, then
// starts its database job. While another rollout's job of the same
// environment still runs, it waits.
func (e *Engine) startMigrating(ctx context.Context, r Rollout) error {
	if e.dbJobs().busy(r.App, r.Env, r.ID) {
		return nil
	}
	target, err := e.revision(ctx, r.App, r.Env, r.ToRevision)
	if err != nil {
		return err
	}
	r, err = e.transition(ctx, r, Migrating, ReasonMigrationStarted,
		fmt.Sprintf("backing up and migrating the database of revision %d (%s) before starting it", target.Number, target.Version), Normal)
	if err != nil {
		return err
	}
	e.runDBJob(ctx, r, target, "")
	return nil
}

// migrating holds the stable revision as it is while the rollout's
// database job runs, and moves the rollout on when it is done: to
// Progressing when the database is migrated, to RolledBack when the
// migration failed. A rollout found Migrating with no job (gantry
// restarted) gets a recovery job that decides from the stored state.
func (e *Engine) migrating(ctx context.Context, r Rollout) error {
	jobs := e.dbJobs()
	jobs.mu.Lock()
	job, ok := jobs.jobs[r.ID]
	jobs.mu.Unlock()
	if !ok {
		target, err := e.revision(ctx, r.App, r.Env, r.ToRevision)
		if err != nil {
			return err
		}
		backupID, err := e.recordedBackup(ctx, r)
		if err != nil {
			return err
		}
		e.opts.Logf("rollout %d: found Migrating without a job; recovering (backup %q)", r.ID, backupID)
		e.runDBJob(ctx, r, target, backupID)
		return e.steady(ctx, r)
	}
	select {
	case <-job.done:
	default:
		return e.steady(ctx, r)
	}
	jobs.mu.Lock()
	delete(jobs.jobs, r.ID)
	jobs.mu.Unlock()
	if job.err != nil {
		r, err := e.move(ctx, r, RolledBack, fact{Type: Warning, Reason: ReasonMigrationFailed, Message: job.err.Error(), Details: &Details{Error: job.err.Error()}})
		if err != nil {
			return err
		}
		return e.steady(ctx, r)
	}
	now := e.opts.Now()
	r.LastProgressAt, r.StepStartedAt = now, now
	_, err := e.transition(ctx, r, Progressing, ReasonRolloutStarted,
		fmt.Sprintf("database migrated; rolling out revision %d (from revision %d) with %s", r.ToRevision, r.FromRevision, r.Strategy), Normal)
	return err
}

// recordedBackup returns the ID of the backup r's job took, from its
// DatabaseBackedUp event's details; "" when there is none.
func (e *Engine) recordedBackup(ctx context.Context, r Rollout) (string, error) {
	evs, err := e.opts.Store.ListEvents(ctx, EventFilter{App: r.App, Env: r.Env, RolloutID: r.ID})
	if err != nil {
		return "", fmt.Errorf("rollout %d: read events: %w", r.ID, err)
	}
	id := ""
	for _, ev := range evs {
		if ev.Reason == ReasonDatabaseBackedUp && ev.Details != nil && ev.Details.Backup != nil {
			id = ev.Details.Backup.ID
		}
	}
	return id, nil
}

// runDBJob starts r's database job. recoverFrom is the backup an earlier
// job of r took before gantry stopped ("" for a fresh job, or when the
// earlier job took none).
func (e *Engine) runDBJob(ctx context.Context, r Rollout, target Revision, recoverFrom string) {
	job := &dbJob{app: r.App, env: r.Env, done: make(chan struct{})}
	jobs := e.dbJobs()
	jobs.mu.Lock()
	jobs.jobs[r.ID] = job
	jobs.mu.Unlock()
	e.goroutines.Go(func() {
		defer e.Kick()
		defer close(job.done)
		if recoverFrom != "" {
			job.err = e.recoverDatabase(ctx, r, target, recoverFrom)
			return
		}
		job.err = e.migrateDatabase(ctx, r, target)
	})
}

// migrateDatabase backs up, migrates and validates; when the migration
// fails it reverses it as spec.database.onFailure says and returns the
// migration's error.
func (e *Engine) migrateDatabase(ctx context.Context, r Rollout, target Revision) error {
	db := e.opts.Database
	b, err := db.Backup(ctx, target, r.FromRevision)
	if err != nil {
		err = fmt.Errorf("backup before migrating revision %d: %w; nothing was migrated", target.Number, err)
		e.failed(ctx, r, ReasonMigrationFailed, err)
		return err
	}
	e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonDatabaseBackedUp, Message: backupMessage(b), Details: &Details{Backup: &b}})
	m, err := db.Migrate(ctx, target)
	if err == nil {
		e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonDatabaseMigrated,
			Message: migrationMessage(m, "applied", "migration"), Details: &Details{Migration: &m}})
		return nil
	}
	migErr := fmt.Errorf("migration of revision %d (%s): %w", target.Number, target.Version, err)
	e.failed(ctx, r, ReasonMigrationFailed, migErr)
	if rerr := e.reverse(ctx, r, target, b); rerr != nil {
		return fmt.Errorf("%w; and reversing it failed: %w", migErr, rerr)
	}
	return migErr
}

// reverse undoes a failed migration: with onFailure undo by the U files
// back to the backup's schema version, falling back to restoring backup b.
func (e *Engine) reverse(ctx context.Context, r Rollout, target Revision, b DatabaseBackup) error {
	db := e.opts.Database
	if target.Spec.Database.Policy() == spec.OnFailureUndo {
		u, err := db.Undo(ctx, target, b.SchemaVersion)
		if err == nil {
			e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonDatabaseUndone, Message: UndoMessage(u), Details: &Details{Migration: &u}})
			return nil
		}
		e.record(ctx, r, 0, 0, fact{Type: Warning, Reason: ReasonDatabaseUndone,
			Message: fmt.Sprintf("undo failed, restoring backup %s instead: %v", b.ID, err), Details: &Details{Backup: &b, Error: err.Error()}})
	}
	return e.restore(ctx, r, target, b.ID)
}

// restore restores backup id into target's database.
func (e *Engine) restore(ctx context.Context, r Rollout, target Revision, id string) error {
	res, err := e.opts.Database.Restore(ctx, target, id)
	if err != nil {
		return fmt.Errorf("restore backup %s: %w", id, err)
	}
	e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonDatabaseRestored, Message: restoreMessage(res), Details: &Details{Restore: &res}})
	return nil
}

// recoverDatabase finishes the job of a rollout whose gantry stopped
// after the backup: when every migration is applied and valid the
// rollout proceeds; otherwise the backup is restored and it fails.
func (e *Engine) recoverDatabase(ctx context.Context, r Rollout, target Revision, backupID string) error {
	st, err := e.opts.Database.Status(ctx, target)
	if err == nil && st.UpToDate {
		e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonDatabaseMigrated,
			Message: fmt.Sprintf("found after a restart: schema version %s, every migration applied and valid", orNone(st.Current)),
			Details: &Details{Migration: &DatabaseMigration{From: st.Current, To: st.Current}}})
		return nil
	}
	why := "gantry stopped during the migration"
	if err != nil {
		why += fmt.Sprintf(" and the history cannot be read: %v", err)
	} else {
		why += fmt.Sprintf(" with the schema at version %s: %s", orNone(st.Current), st.Detail)
	}
	e.record(ctx, r, 0, 0, fact{Type: Warning, Reason: ReasonMigrationFailed, Message: why, Details: &Details{Error: why}})
	if rerr := e.restore(ctx, r, target, backupID); rerr != nil {
		return fmt.Errorf("%s; and reversing it failed: %w", why, rerr)
	}
	return fmt.Errorf("%s; restored backup %s", why, backupID)
}

// failed records a Warning event whose facts are an error.
func (e *Engine) failed(ctx context.Context, r Rollout, reason Reason, err error) {
	e.record(ctx, r, 0, 0, fact{Type: Warning, Reason: reason, Message: err.Error(), Details: &Details{Error: err.Error()}})
}
