package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/dbbackup"
	"github.com/gantry-dev/gantry/migrate"
	"github.com/gantry-dev/gantry/rollout"
)

// stopTimeout bounds how long a database rollback waits for the app's
// instances to stop (they drain, then get terminationGracePeriodSeconds).
const stopTimeout = 5 * time.Minute

// rollbackTarget is what a database rollback restores and restarts.
type rollbackTarget struct {
	backup   *dbbackup.Manifest // nil: undo to version
	version  string
	revision int
}

// RollbackDatabase restores app's database in env to backup to (an ID or
// "latest"), or undoes it to schema version to, and restarts the app at
// the revision that backup was taken with: the proxy answers 503 with
// Retry-After while every instance is stopped, the database restored and
// the revision started. Every step is an event. It refuses (rollout.ErrInvalid)
// when the environment has no database, the backup is unknown or
// corrupt, or a rollout is in progress.
func (s *Server) RollbackDatabase(ctx context.Context, app, env, to, actor string) (api.DatabaseRollback, error) {
	var out api.DatabaseRollback
	rec, err := s.store.GetApp(ctx, app)
	if err != nil {
		return out, fmt.Errorf("%w: app %q: %v", rollout.ErrInvalid, app, err)
	}
	resolved, err := rec.Spec.Resolve(env)
	if err != nil {
		return out, fmt.Errorf("%w: %v", rollout.ErrInvalid, err)
	}
	db, err := s.databases.resolve(app, env, resolved)
	if err != nil {
		return out, fmt.Errorf("%w: %v", rollout.ErrInvalid, err)
	}
	rs, err := s.store.ListRollouts(ctx, rollout.RolloutFilter{App: app, Env: env, Limit: 1})
	if err != nil {
		return out, err
	}
	stable := 0
	if len(rs) > 0 {
		if !rs[0].Phase.Final() {
			return out, fmt.Errorf("%w: rollout %d of %s in %s is in progress (%s): wait for it to end or run gantry rollout abort first",
				rollout.ErrInvalid, rs[0].ID, app, env, rs[0].Phase)
		}
		stable = rs[0].Stable()
	}
	target, err := rollbackTargetOf(db, to, stable)
	if err != nil {
		return out, err
	}
	rev, err := s.store.GetRevision(ctx, app, env, target.revision)
	if err != nil {
		return out, fmt.Errorf("%w: revision %d, which the backup was taken with, is no longer stored (revisionHistoryLimit): %v",
			rollout.ErrInvalid, target.revision, err)
	}
	out.Revision = rev.Number
	ev := func(typ rollout.EventType, reason rollout.Reason, format string, args ...any) {
		s.recordEvent(rollout.Event{App: app, Env: env, Type: typ, Reason: reason, Message: fmt.Sprintf(format, args...), Actor: actor})
	}
	facts := func(typ rollout.EventType, reason rollout.Reason, message string, d *rollout.Details) {
		s.recordEvent(rollout.Event{App: app, Env: env, Type: typ, Reason: reason, Message: message, Actor: actor, Details: d})
	}
	what := "undo to schema version " + target.version
	if target.backup != nil {
		what = fmt.Sprintf("restore backup %s (schema version %s)", target.backup.ID, orNone(target.backup.SchemaVersion))
	}
	ev(rollout.Normal, rollout.ReasonDatabaseRollbackStarted, "%s, then restart revision %d (%s)", what, rev.Number, rev.Version)

	// Stop traffic and instances.
	start := time.Now()
	s.held.hold(app, env, true)
	_ = s.routes.router.SetMaintenance(app, env, true)
	resume := func() {
		s.held.hold(app, env, false)
		_ = s.routes.router.SetMaintenance(app, env, false)
		out.MaintenanceMillis = time.Since(start).Milliseconds()
		ev(rollout.Normal, rollout.ReasonMaintenanceEnded, "proxy serves again after %s", time.Since(start).Round(time.Millisecond))
		s.engine.Kick()
	}
	n, err := s.stopAll(ctx, app, env)
	out.StoppedInstances = n
	if err != nil {
		resume()
		return out, fmt.Errorf("stop the instances of %s in %s: %w; nothing was restored", app, env, err)
	}
	ev(rollout.Normal, rollout.ReasonMaintenanceStarted, "proxy answers 503 with Retry-After: 1; %d instance(s) drained and stopped", n)

	// Restore or undo.
	if target.backup != nil {
		res, err := s.databases.restore(ctx, db, target.backup.ID)
		if err != nil {
			facts(rollout.Warning, rollout.ReasonDatabaseRollbackFailed, err.Error(), &rollout.Details{Error: err.Error()})
			resume()
			return out, err
		}
		out.BackupID, out.SchemaVersion = res.BackupID, res.SchemaVersion
		facts(rollout.Normal, rollout.ReasonDatabaseRestored, rollout.RestoreMessage(res), &rollout.Details{Restore: &res})
	} else {
		u, err := s.databases.Undo(ctx, rev, target.version)
		if err != nil {
			facts(rollout.Warning, rollout.ReasonDatabaseRollbackFailed, err.Error(), &rollout.Details{Error: err.Error()})
			resume()
			return out, err
		}
		out.SchemaVersion = u.To
		facts(rollout.Normal, rollout.ReasonDatabaseUndone, rollout.UndoMessage(u), &rollout.Details{Migration: &u})
	}

	// Restart the matching revision.
	if rev.Number != stable {
		r, err := s.engine.UndoAfterDatabaseRollback(ctx, app, env, rev.Number, actor)
		if err != nil {
			resume()
			return out, fmt.Errorf("database rolled back, but starting revision %d: %w", rev.Number, err)
		}
		out.RolloutID = r.ID
	}
	resume()
	return out, nil
}

// rollbackTargetOf reads to: a backup ID, "latest", or a schema version.
func rollbackTargetOf(db appDB, to string, stable int) (rollbackTarget, error) {
	if to == "latest" {
		list, err := db.backups.List()
		if err != nil {
			return rollbackTarget{}, err
		}
		if len(list) == 0 {
			return rollbackTarget{}, fmt.Errorf("%w: no backups in %s yet", rollout.ErrInvalid, db.backups.Dir)
		}
		to = list[0].ID
	}
	m, err := db.backups.Verify(to)
	switch {
	case err == nil:
		n, ok := revisionOf(m)
		if !ok {
			n = stable
		}
		if n == 0 {
			return rollbackTarget{}, fmt.Errorf("%w: backup %s names no app revision and nothing is deployed", rollout.ErrInvalid, m.ID)
		}
		return rollbackTarget{backup: m, revision: n}, nil
	case errors.Is(err, dbbackup.ErrCorrupt):
		return rollbackTarget{}, fmt.Errorf("%w: %v", rollout.ErrInvalid, err)
	case !errors.Is(err, dbbackup.ErrNotFound):
		return rollbackTarget{}, err
	}
	if _, verr := migrate.ParseVersion(to); verr != nil {
		return rollbackTarget{}, fmt.Errorf("%w: %q is neither a backup in %s (see gantry db backups) nor a schema version", rollout.ErrInvalid, to, db.backups.Dir)
	}
	t := rollbackTarget{version: to, revision: stable}
	if list, err := db.backups.List(); err == nil {
		for _, m := range list {
			if n, ok := revisionOf(m); ok && m.SchemaVersion == to {
				t.revision = n
				break
			}
		}
	}
	if t.revision == 0 {
		return t, fmt.Errorf("%w: nothing is deployed, so there is no revision to restart", rollout.ErrInvalid)
	}
	return t, nil
}

// stopAll scales every revision of app in env to zero and waits until no
// instance is left; it returns how many there were.
func (s *Server) stopAll(ctx context.Context, app, env string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	instances := s.backend.Instances(app, env)
	seen := map[int]bool{}
	for _, in := range instances {
		if seen[in.Revision] {
			continue
		}
		seen[in.Revision] = true
		rev, err := s.store.GetRevision(ctx, app, env, in.Revision)
		if err != nil {
			return len(instances), err
		}
		if err := s.held.Scale(ctx, rev, 0); err != nil {
			return len(instances), err
		}
	}
	for len(s.backend.Instances(app, env)) > 0 {
		select {
		case <-ctx.Done():
			return len(instances), fmt.Errorf("instances still running after %s: %w", stopTimeout, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return len(instances), nil
}

func orNone(v string) string {
	if v == "" {
		return "<none>"
	}
	return v
}
