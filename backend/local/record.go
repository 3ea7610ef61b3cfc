package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// record is what DataDir/instances/<id>.json keeps about a running
// instance, so that a later gantry can adopt it.
type record struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	Env      string `json:"env"`
	Revision int    `json:"revision"`
	Version  string `json:"version"`
	// Group is the instance's group (rollout.Instance.Group); empty for
	// the revision's primary instances.
	Group string `json:"group,omitempty"`
	PID   int    `json:"pid"`
	// StartTime is the process start time from /proc/<pid>/stat, in clock
	// ticks after boot; it tells the process from a later one with its pid.
	StartTime uint64    `json:"startTime"`
	Port      int       `json:"port"`
	StartedAt time.Time `json:"startedAt"`
	Restarts  int       `json:"restarts"`
	// Ready is the run's last known readiness and ReadySince when it
	// became ready: an adopted instance keeps serving on them until a
	// probe says otherwise.
	Ready      bool      `json:"ready,omitempty"`
	ReadySince time.Time `json:"readySince,omitzero"`
	// LastExit is how the instance's previous run ended; nil before the
	// first exit.
	LastExit *exitRecord `json:"lastExit,omitempty"`
	// RestartAt is set (and PID, StartTime and Port are zero) while the
	// instance backs off after an exit: when its next run is due.
	// BackoffMillis is the back-off that run's exit was given, which the
	// next exit doubles.
	RestartAt     time.Time `json:"restartAt,omitzero"`
	BackoffMillis int64     `json:"backoffMillis,omitempty"`
}

// exitRecord is how one run of an instance ended.
type exitRecord struct {
	// Message is the instance's LastExit, such as "exit status 2" or
	// "liveness probe failed: HTTP 500".
	Message string `json:"message"`
	// Code is the exit status and Signal the signal that ended the process
	// (such as "SIGKILL"), when known.
	Code   *int      `json:"code,omitempty"`
	Signal string    `json:"signal,omitempty"`
	At     time.Time `json:"at"`
}

// backingOff reports whether rec is of an instance between two runs.
func (rec record) backingOff() bool { return rec.PID == 0 && !rec.RestartAt.IsZero() }

// records stores instance records in one directory.
type records struct{ dir string }

func (r records) path(id string) string { return filepath.Join(r.dir, id+".json") }

// put writes rec atomically: to a temporary file, synced, then renamed.
func (r records) put(rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(r.dir, ".tmp-"+rec.ID+"-*")
	if err != nil {
		return fmt.Errorf("write instance record: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), r.path(rec.ID))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write instance record %s: %w", r.path(rec.ID), err)
	}
	return nil
}

// remove deletes id's record; a missing record is not an error.
func (r records) remove(id string) error {
	err := os.Remove(r.path(id))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove instance record: %w", err)
	}
	return nil
}

// list reads every record. Leftover temporary files are removed; a record
// that does not parse is reported with its path.
func (r records) list() ([]record, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, fmt.Errorf("read instance records: %w", err)
	}
	var out []record
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(r.dir, name))
			continue
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil || rec.ID+".json" != name {
			errs = append(errs, fmt.Errorf("instance record %s is damaged; remove it after checking no process of it is running: %v", filepath.Join(r.dir, name), err))
			continue
		}
		out = append(out, rec)
	}
	return out, errors.Join(errs...)
}
