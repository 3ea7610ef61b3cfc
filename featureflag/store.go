package featureflag

import (
	"context"
	"errors"
	"time"
)

// ErrConflict is returned when a flag changed between reading and
// writing it (another change stored the version first): read it again and
// retry.
var ErrConflict = errors.New("flag changed concurrently")

// ErrNotFound is returned for a flag, or a version of one, that does not exist.
var ErrNotFound = errors.New("not found")

// Version is one stored version of one flag of one environment. Versions
// are never changed or removed: setting, deleting and reverting a flag
// each store a new one.
type Version struct {
	Env string `json:"env"`
	Key string `json:"key"`
	// Version numbers a flag's versions 1, 2, 3… without gaps.
	Version int64 `json:"version"`
	// Flag is the definition from this version on; nil: the flag was deleted.
	Flag *Flag `json:"flag,omitempty"`
	// Actor is who made the change: a token's name, or "gantry" for a
	// rollout step.
	Actor string `json:"actor"`
	// Reason says why, as the actor gave it; may be empty.
	Reason string    `json:"reason,omitempty"`
	Time   time.Time `json:"time"`
	// Seq orders every version in the store; the store assigns it.
	Seq int64 `json:"seq"`
}

// Store keeps flag versions. store/sqlite and store/postgres implement it;
// store/storetest.RunFlags is its conformance suite.
type Store interface {
	// AppendFlagVersions stores vs in one transaction, assigning Seq. Each
	// v.Version must be its flag's newest version + 1 (1 for a new flag),
	// else nothing is stored and the error wraps ErrConflict.
	AppendFlagVersions(ctx context.Context, vs []Version) ([]Version, error)
	// CurrentFlags returns the newest version of every flag of env, deleted
	// flags included (Flag nil), ordered by key.
	CurrentFlags(ctx context.Context, env string) ([]Version, error)
	// FlagHistory returns every version of one flag, oldest first; none:
	// an empty list.
	FlagHistory(ctx context.Context, env, key string) ([]Version, error)
	// FlagsSeq returns the largest Seq of env's versions, 0 when it has none.
	FlagsSeq(ctx context.Context, env string) (int64, error)
}
