package migrate

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// State is where a migration stands, as Flyway's info command shows it.
type State int

// Migration states.
const (
	// Pending: found locally, not applied yet; Migrate will apply it.
	Pending State = iota + 1
	// Success: applied and matches its file.
	Success
	// Failed: applied and failed (a non-transactional migration); Repair
	// removes the row once its half-done changes are cleaned up.
	Failed
	// Undone: applied, then reversed by an undo migration.
	Undone
	// Missing: applied successfully, but its file is gone.
	Missing
	// MissingFailed: applied and failed, and its file is gone.
	MissingFailed
	// Future: applied, file gone, and newer than every local migration: a
	// newer release ran against this database. Not an error.
	Future
	// Ignored: found locally, not applied, and older than the current version;
	// Migrate skips it unless out-of-order migrations are allowed.
	Ignored
	// OutOfOrder: applied after a migration with a higher version.
	OutOfOrder
	// BelowBaseline: found locally at or below the baseline version; never run.
	BelowBaseline
	// Baseline: the baseline marker.
	Baseline
	// Outdated: a repeatable migration whose file changed since it ran; a
	// Pending entry follows for its re-run.
	Outdated
	// Superseded: an older run of a repeatable migration that ran again.
	Superseded
	// Deleted: an applied migration whose missing file Repair acknowledged.
	Deleted
	// AboveTarget: pending, but above the target version of this run.
	AboveTarget
)

var stateNames = [...]string{"", "Pending", "Success", "Failed", "Undone", "Missing", "Missing failed", "Future",
	"Ignored", "Out of order", "Below baseline", "Baseline", "Outdated", "Superseded", "Deleted", "Above target"}

// String returns the state's name as Flyway's info shows it.
func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText writes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Entry is one line of Info: a history row, or a local migration not applied.
type Entry struct {
	Kind        Kind
	Version     Version // zero for repeatable migrations
	Description string
	Type        string // the history row's type; TypeSQL for local migrations not applied
	Script      string
	Checksum    *int32 // the row's checksum, or the file's when not applied
	State       State
	Applied     *Applied // nil when not applied
	Local       *Script  // nil when the file is missing
	Undoable    bool     // an undo file exists for this version
	// Reason says why the migration is in its state when the state alone
	// does not: set for Ignored (older than the current version and never
	// applied), empty otherwise.
	Reason string
}

// NonTransactional reports whether the entry's file runs outside a
// transaction (see Script.NonTransactional); false when the file is missing.
func (e Entry) NonTransactional() bool { return e.Local != nil && e.Local.NonTransactional }

// Gap is a step between two consecutive local versions that leaves numbers
// out (2 then 4). Gaps are legal; Info reports them.
type Gap struct{ After, Before Version }

// ProblemKind is what Validate found wrong.
type ProblemKind int

// Problem kinds.
const (
	// ChecksumMismatch: an applied migration's file was edited.
	ChecksumMismatch ProblemKind = iota + 1
	// MissingLocally: an applied migration's file is gone.
	MissingLocally
	// FailedMigration: the history records a failed migration.
	FailedMigration
	// IgnoredMigration: a local migration older than the current version was
	// never applied (out of order).
	IgnoredMigration
	// NotApplied: a local migration is pending.
	NotApplied
	// VersionGap: versions skip numbers; a problem only with FailOnGaps.
	VersionGap
	// DescriptionMismatch: an applied migration's file was renamed, so the
	// description in its name differs from the one recorded.
	DescriptionMismatch
)

// String returns the kind's name.
func (k ProblemKind) String() string {
	switch k {
	case ChecksumMismatch:
		return "checksum mismatch"
	case MissingLocally:
		return "missing locally"
	case FailedMigration:
		return "failed migration"
	case IgnoredMigration:
		return "ignored migration"
	case NotApplied:
		return "not applied"
	case VersionGap:
		return "version gap"
	case DescriptionMismatch:
		return "description mismatch"
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k ProblemKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Problem is one thing Validate reports, with how to fix it.
type Problem struct {
	Kind    ProblemKind `json:"kind"`
	Message string      `json:"message"`
}

// Info is the state of every migration, local and applied.
type Info struct {
	Entries []Entry
	// Current is the schema version: the highest version applied
	// successfully (or baselined) and not undone; zero when none.
	Current Version
	// Pending is what Migrate would apply, in order: versioned migrations,
	// then repeatable ones that are new or changed.
	Pending []*Script
	// Gaps are the steps that leave versions out between the local versions
	// that are or will be applied; Ignored files are not part of them.
	Gaps     []Gap
	Problems []Problem
}

// Ignored returns the entries in state Ignored, in version order: local
// migrations older than the current version that were never applied.
func (i *Info) Ignored() []Entry {
	var out []Entry
	for _, e := range i.Entries {
		if e.State == Ignored {
			out = append(out, e)
		}
	}
	return out
}

// PlanOptions tune how Plan classifies migrations.
type PlanOptions struct {
	// OutOfOrder lets migrations older than the current version, never
	// applied, be applied (Flyway's outOfOrder). False: they are Ignored.
	OutOfOrder bool
	// Target stops at this version: later ones are AboveTarget. Zero: no limit.
	Target Version
	// FailOnGaps makes version gaps problems. False: they are only reported.
	FailOnGaps bool
}

func key(v Version) string {
	parts := make([]string, len(v.parts))
	for i, p := range v.parts {
		parts[i] = p.String()
	}
	return strings.Join(parts, ".")
}

// Plan compares local migrations with the history table's rows (in
// installed_rank order). It is the single place where states are decided;
// Info, Validate and Migrate all use it.
func Plan(set *Set, rows []Applied, opts PlanOptions) *Info {
	info := &Info{}
	local := map[string]*Script{}
	for _, s := range set.Versioned {
		local[key(s.Version)] = s
	}
	localRep := map[string]*Script{}
	for _, s := range set.Repeatable {
		localRep[StoredDescription(s.Description)] = s
	}
	var maxLocal Version
	if n := len(set.Versioned); n > 0 {
		maxLocal = set.Versioned[n-1].Version
	}
	latest := map[string]*Applied{}
	latestRep := map[string]*Applied{}
	var baseline *Applied
	for i := range rows {
		r := &rows[i]
		switch {
		case r.Type == TypeBaseline:
			baseline = r
			latest[key(r.Version)] = r
		case !r.Version.IsZero():
			latest[key(r.Version)] = r
		default:
			latestRep[r.Description] = r
		}
	}
	info.Current = currentVersion(latest)
	problem := func(k ProblemKind, format string, args ...any) {
		info.Problems = append(info.Problems, Problem{Kind: k, Message: fmt.Sprintf(format, args...)})
	}

	var highestSoFar Version // for OutOfOrder: highest version applied by earlier rows
	for i := range rows {
		r := &rows[i]
		e := Entry{Kind: Versioned, Version: r.Version, Description: r.Description, Type: r.Type,
			Script: r.Script, Checksum: r.Checksum, Applied: r}
		switch {
		case r.Type == TypeBaseline:
			e.State = Baseline
		case r.Type == TypeUndoSQL:
			e.Kind, e.State = Undo, Success
			if !r.Success {
				e.State = Failed
			}
			e.Local = set.UndoFor(r.Version)
		case r.Type == TypeDelete:
			e.State = Deleted
		case r.Version.IsZero():
			e.Kind = Repeatable
			e.Local = localRep[r.Description]
			e.State = repeatableState(r, latestRep[r.Description] == r, e.Local)
		default:
			e.Local = local[key(r.Version)]
			e.Undoable = set.UndoFor(r.Version) != nil
			if l := latest[key(r.Version)]; l != r {
				e.State = Undone
				if !r.Success {
					e.State = Failed
				} else if l.Type == TypeDelete {
					e.State = Deleted
				}
				break
			}
			switch {
			case !r.Success && e.Local == nil:
				e.State = MissingFailed
			case !r.Success:
				e.State = Failed
			case e.Local == nil && r.Version.Compare(maxLocal) > 0:
				e.State = Future
			case e.Local == nil:
				e.State = Missing
			case r.Version.Compare(highestSoFar) < 0:
				e.State = OutOfOrder
			default:
				e.State = Success
			}
		}
		if r.Success && (r.Type == TypeSQL || r.Type == TypeBaseline) && r.Version.Compare(highestSoFar) > 0 {
			highestSoFar = r.Version
		}
		switch e.State {
		case Success, OutOfOrder:
			if e.Kind == Versioned && e.Local != nil && r.Checksum != nil && *r.Checksum != e.Local.Checksum {
				problem(ChecksumMismatch, "%s: applied with checksum %d, but the file now has checksum %d: "+
					"it was edited after it was applied; restore its applied content, or run `gantry db repair` to accept the edit",
					e.Local.Path, *r.Checksum, e.Local.Checksum)
			}
			if e.Kind == Versioned && e.Local != nil && r.Description != StoredDescription(e.Local.Description) {
				problem(DescriptionMismatch, "%s: version %s was applied as %s with description %q, but the file's name now gives %q: "+
					"it was renamed after it was applied; rename it back to %s, or run `gantry db repair` to accept the new description",
					e.Local.Path, r.Version, r.Script, r.Description, StoredDescription(e.Local.Description), path.Base(r.Script))
			}
		case Missing:
			problem(MissingLocally, "%s (%s) was applied but is not in the migration locations; "+
				"restore the file, or run `gantry db repair` to mark it deleted", r.Script, describe(r))
		case Failed, MissingFailed:
			what := describe(r)
			if r.Type == TypeUndoSQL {
				what = "undo of " + what
			}
			problem(FailedMigration, "%s (%s) failed and may have left half-done changes; "+
				"remove them by hand, then run `gantry db repair` to delete the failed row", r.Script, what)
		}
		info.Entries = append(info.Entries, e)
	}

	ignored := map[string]bool{}
	for _, s := range set.Versioned {
		if l := latest[key(s.Version)]; l != nil && l.Type != TypeUndoSQL && l.Type != TypeDelete {
			continue // applied (or failed, or the baseline itself)
		}
		e := Entry{Kind: Versioned, Version: s.Version, Description: s.Description, Type: TypeSQL,
			Script: s.Name, Checksum: &s.Checksum, Local: s, Undoable: set.UndoFor(s.Version) != nil, State: Pending}
		switch {
		case baseline != nil && s.Version.Compare(baseline.Version) <= 0:
			e.State = BelowBaseline
		case !opts.Target.IsZero() && s.Version.Compare(opts.Target) > 0:
			e.State = AboveTarget
		case s.Version.Compare(info.Current) < 0 && !opts.OutOfOrder:
			e.State = Ignored
			e.Reason = fmt.Sprintf("older than the current version %s and never applied; "+
				"apply it with --out-of-order, or give it a version above %s", info.Current, info.Current)
			ignored[key(s.Version)] = true
			problem(IgnoredMigration, "%s (version %s) is %s", s.Path, s.Version, e.Reason)
		default:
			info.Pending = append(info.Pending, s)
			problem(NotApplied, "%s (version %s) is not applied yet; run `gantry db migrate`", s.Path, s.Version)
		}
		info.Entries = append(info.Entries, e)
	}
	for _, s := range set.Repeatable {
		if r := latestRep[StoredDescription(s.Description)]; r != nil && (!r.Success || r.Checksum != nil && *r.Checksum == s.Checksum) {
			continue // up to date, or failed (reported above)
		}
		info.Pending = append(info.Pending, s)
		info.Entries = append(info.Entries, Entry{Kind: Repeatable, Description: s.Description, Type: TypeSQL,
			Script: s.Name, Checksum: &s.Checksum, Local: s, State: Pending})
		problem(NotApplied, "%s (repeatable) is new or changed and not applied yet; run `gantry db migrate`", s.Path)
	}

	// Gaps are between the versions that are or will be applied: an ignored
	// file is listed apart, not as a step in the sequence.
	var seq []Version
	for _, s := range set.Versioned {
		if !ignored[key(s.Version)] {
			seq = append(seq, s.Version)
		}
	}
	for i := 1; i < len(seq); i++ {
		a, b := seq[i-1], seq[i]
		if !b.Follows(a) {
			info.Gaps = append(info.Gaps, Gap{After: a, Before: b})
			if opts.FailOnGaps {
				problem(VersionGap, "versions jump from %s to %s; add the missing versions or allow gaps", a, b)
			}
		}
	}
	return info
}

func repeatableState(r *Applied, isLatest bool, local *Script) State {
	switch {
	case !r.Success && local == nil:
		return MissingFailed
	case !r.Success:
		return Failed
	case !isLatest:
		return Superseded
	case local == nil:
		return Missing
	case r.Checksum == nil || *r.Checksum != local.Checksum:
		return Outdated
	}
	return Success
}

func describe(r *Applied) string {
	if r.Version.IsZero() {
		return "repeatable migration " + r.Description
	}
	return "version " + r.Version.String()
}

// currentVersion is the highest version whose latest row is a successful
// migration or the baseline.
func currentVersion(latest map[string]*Applied) Version {
	var cur Version
	for _, r := range latest {
		if r.Success && (r.Type == TypeSQL || r.Type == TypeBaseline) && r.Version.Compare(cur) > 0 {
			cur = r.Version
		}
	}
	return cur
}

// CurrentVersion reads the schema version from a history table: the
// highest version applied successfully (or baselined) and not undone. It
// returns the zero Version when the table does not exist or holds no
// versioned row. schema empty means the current schema; table empty means
// DefaultTable.
func CurrentVersion(ctx context.Context, q Querier, schema, tableName string) (Version, error) {
	if tableName == "" {
		tableName = DefaultTable
	}
	if schema == "" {
		rows, err := q.Query(ctx, "SELECT current_schema()")
		if err != nil {
			return Version{}, fmt.Errorf("read current schema: %w", err)
		}
		var cur *string
		for rows.Next() {
			if err := rows.Scan(&cur); err != nil {
				rows.Close()
				return Version{}, err
			}
		}
		rows.Close()
		if cur == nil {
			return Version{}, nil
		}
		schema = *cur
	}
	rows, err := table{schema: schema, name: tableName}.read(ctx, q)
	if err != nil {
		return Version{}, err
	}
	latest := map[string]*Applied{}
	for i := range rows {
		if !rows[i].Version.IsZero() {
			latest[key(rows[i].Version)] = &rows[i]
		}
	}
	return currentVersion(latest), nil
}
