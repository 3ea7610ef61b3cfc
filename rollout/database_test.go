package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// fakeDatabase is an in-memory DatabaseMigrator: the schema is at version
// schema; a migration to a revision whose version contains "bad-migration"
// fails half way (after raising the schema). gate, when not nil, holds
// Migrate until it is closed.
type fakeDatabase struct {
	mu       sync.Mutex
	schema   int
	backups  map[string]int
	restored []string
	gate     chan struct{}
	upToDate bool // what Status reports
}

var _ rollout.DatabaseMigrator = (*fakeDatabase)(nil)

func (d *fakeDatabase) Backup(_ context.Context, rev rollout.Revision, appRevision int) (rollout.DatabaseBackup, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := fmt.Sprintf("b%d-rev%d", len(d.backups)+1, appRevision)
	if d.backups == nil {
		d.backups = map[string]int{}
	}
	d.backups[id] = d.schema
	return rollout.DatabaseBackup{ID: id, SizeBytes: 100, SchemaVersion: fmt.Sprint(d.schema)}, nil
}

func (d *fakeDatabase) Migrate(_ context.Context, rev rollout.Revision) (rollout.DatabaseMigration, error) {
	d.mu.Lock()
	gate := d.gate
	d.mu.Unlock()
	if gate != nil {
		<-gate
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	from := d.schema
	d.schema++
	if rev.Version == "bad-migration" {
		return rollout.DatabaseMigration{}, errors.New("migration failed: V9__bad.sql at line 1: syntax error")
	}
	return rollout.DatabaseMigration{From: fmt.Sprint(from), To: fmt.Sprint(d.schema), Scripts: []string{fmt.Sprintf("V%d__x.sql", d.schema)}}, nil
}

func (d *fakeDatabase) Restore(_ context.Context, _ rollout.Revision, id string) (rollout.DatabaseRestore, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.backups[id]
	if !ok {
		return rollout.DatabaseRestore{}, fmt.Errorf("no backup %s", id)
	}
	d.schema = v
	d.restored = append(d.restored, id)
	return rollout.DatabaseRestore{BackupID: id, SchemaVersion: fmt.Sprint(v)}, nil
}

func (d *fakeDatabase) Undo(context.Context, rollout.Revision, string) (rollout.DatabaseMigration, error) {
	return rollout.DatabaseMigration{}, errors.New("no undo files")
}

func (d *fakeDatabase) Status(context.Context, rollout.Revision) (rollout.SchemaStatus, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return rollout.SchemaStatus{Current: fmt.Sprint(d.schema), UpToDate: d.upToDate, Detail: "1 pending"}, nil
}

func (d *fakeDatabase) state() (int, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.schema, append([]string(nil), d.restored...)
}

const databaseSpec = testSpec + `    database:
      url: {fromEnv: WEB_DATABASE_URL}
      onFailure: undo
`

func newDatabaseHarness(t *testing.T, db *fakeDatabase, path string) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app, err := spec.Parse("gantry.yaml", []byte(databaseSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: *app}); err != nil {
		t.Fatal(err)
	}
	b := newFakeBackend()
	e, err := rollout.New(rollout.Options{
		Store: st, Backend: b, Router: &fakeRouter{}, Database: db,
		Strategies: map[spec.StrategyType]rollout.Strategy{spec.RollingUpdate: strategy.Rolling{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{engine: e, store: st, backend: b}
}

func TestEngine_MigratesBeforeStarting(t *testing.T) {
	db := &fakeDatabase{}
	h := newDatabaseHarness(t, db, t.TempDir()+"/state.db")
	h.deploy(t, "v1")
	gate := make(chan struct{})
	db.mu.Lock()
	db.gate = gate
	db.mu.Unlock()
	r := h.start(t, "v2")
	r = h.reconcileUntil(t, r.ID, "Migrating", func(r rollout.Rollout) bool { return r.Phase == rollout.Migrating })
	// The migration is held: reconciles go on, and only the stable revision runs.
	h.reconcile(t, 5)
	if got := h.get(t, r.ID).Phase; got != rollout.Migrating {
		t.Fatalf("phase while migrating = %s, want Migrating", got)
	}
	if c := h.counts(); c[2] != 0 || c[1] != 3 {
		t.Errorf("instances while migrating = %v, want 3 of revision 1 and none of 2", c)
	}
	close(gate)
	r = h.until(t, r.ID)
	if r.Phase != rollout.Succeeded {
		t.Fatalf("rollout ended %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if schema, _ := db.state(); schema != 2 {
		t.Errorf("schema = %d, want 2", schema)
	}
	h.wantEvent(t, r.ID, rollout.ReasonDatabaseBackedUp, "gantry", "backup b2-rev1: 100 bytes")
	h.wantEvent(t, r.ID, rollout.ReasonDatabaseMigrated, "gantry", "schema version 1 -> 2: applied 1 migration(s)")
}

func TestEngine_FailedMigrationRollsBack(t *testing.T) {
	db := &fakeDatabase{}
	h := newDatabaseHarness(t, db, t.TempDir()+"/state.db")
	h.deploy(t, "v1")
	r := h.deploy(t, "bad-migration")
	if r.Phase != rollout.RolledBack || r.Reason != rollout.ReasonMigrationFailed {
		t.Fatalf("rollout ended %s %s, want RolledBack MigrationFailed", r.Phase, r.Reason)
	}
	schema, restored := db.state()
	if schema != 1 || len(restored) != 1 || restored[0] != "b2-rev1" {
		t.Errorf("schema %d, restored %v; want 1 after restoring b2-rev1", schema, restored)
	}
	if h.backend.maxTotal > 3 {
		t.Errorf("%d instances ran at once; the failed revision should never start", h.backend.maxTotal)
	}
	h.wantEvent(t, r.ID, rollout.ReasonMigrationFailed, "gantry", "V9__bad.sql at line 1")
	// onFailure undo fell back to the backup when undo failed.
	h.wantEvent(t, r.ID, rollout.ReasonDatabaseUndone, "gantry", "undo failed, restoring backup b2-rev1 instead")
	h.wantEvent(t, r.ID, rollout.ReasonDatabaseRestored, "gantry", "restored backup b2-rev1")
	if c := h.counts(); c[1] != 3 || c[2] != 0 {
		t.Errorf("instances after = %v, want 3 of revision 1", c)
	}
}

func TestEngine_RecoversMigrating(t *testing.T) {
	path := t.TempDir() + "/state.db"
	ctx := context.Background()
	tests := []struct {
		name      string
		schema    int // what the crashed job left
		want      rollout.Phase
		wantSaved bool // restored from the recorded backup
	}{
		{"every migration applied: proceeds", 2, rollout.Succeeded, false},
		{"half applied: restored", 1, rollout.RolledBack, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fmt.Sprintf("%s.%d", path, i)
			db := &fakeDatabase{}
			h := newDatabaseHarness(t, db, path)
			h.deploy(t, "v1")
			// A crashed gantry: the rollout is stored Migrating with its
			// backup event, and no job runs.
			r := h.start(t, "v2")
			r.Phase = rollout.Migrating
			if r, _ = h.store.UpdateRollout(ctx, r); r.Phase != rollout.Migrating {
				t.Fatal("could not store the rollout Migrating")
			}
			b, _ := db.Backup(ctx, rollout.Revision{}, 1)
			h.store.AppendEvent(ctx, rollout.Event{App: "web", Env: "prod", RolloutID: r.ID, Reason: rollout.ReasonDatabaseBackedUp,
				Message: rollout.BackupMessage(b), Details: &rollout.Details{Backup: &b}})
			db.mu.Lock()
			db.schema, db.upToDate = tt.schema, tt.want == rollout.Succeeded
			db.mu.Unlock()
			got := h.until(t, r.ID)
			if got.Phase != tt.want {
				t.Fatalf("rollout ended %s %s: %s, want %s", got.Phase, got.Reason, got.Message, tt.want)
			}
			_, restored := db.state()
			if (len(restored) == 1) != tt.wantSaved {
				t.Errorf("restored %v, want restored: %v", restored, tt.wantSaved)
			}
		})
	}
}
