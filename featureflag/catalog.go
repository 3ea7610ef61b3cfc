package featureflag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// CatalogOptions configure a Catalog. Store is required.
type CatalogOptions struct {
	Store Store
	// MaxAge is how long a cached snapshot is used before the store is
	// asked whether the environment changed (one cheap query); 0: 1s.
	// Changes made through this Catalog show at once.
	MaxAge time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Catalog is every environment's flags: it stores changes as new
// versions, keeps a compiled snapshot per environment and counts
// evaluations. Safe for concurrent use.
type Catalog struct {
	opts CatalogOptions
	// Counts counts evaluations served from this catalog's snapshots.
	Counts Counters

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	snap    *Snapshot
	checked time.Time
}

// NewCatalog returns a Catalog over opts.Store.
func NewCatalog(opts CatalogOptions) *Catalog {
	if opts.Store == nil {
		panic("featureflag: CatalogOptions.Store is required")
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Catalog{opts: opts, cache: map[string]cached{}}
}

// Snapshot returns env's flags, compiled: from the cache while it is
// younger than MaxAge or the store has no newer version, else loaded.
func (c *Catalog) Snapshot(ctx context.Context, env string) (*Snapshot, error) {
	now := c.opts.Now()
	c.mu.Lock()
	e, ok := c.cache[env]
	c.mu.Unlock()
	if ok && now.Sub(e.checked) < c.opts.MaxAge {
		return e.snap, nil
	}
	if ok {
		seq, err := c.opts.Store.FlagsSeq(ctx, env)
		if err != nil {
			return nil, fmt.Errorf("flags of %s: %w", env, err)
		}
		if seq == e.snap.Seq() {
			c.remember(env, e.snap, now)
			return e.snap, nil
		}
	}
	return c.load(ctx, env, now)
}

func (c *Catalog) load(ctx context.Context, env string, now time.Time) (*Snapshot, error) {
	vs, err := c.opts.Store.CurrentFlags(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", env, err)
	}
	doc := Document{Environment: env, Flags: []Flag{}}
	for _, v := range vs {
		doc.Seq = max(doc.Seq, v.Seq)
		if v.Flag != nil {
			doc.Flags = append(doc.Flags, *v.Flag)
		}
	}
	snap, err := NewSnapshot(doc)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", env, err)
	}
	c.remember(env, snap, now)
	return snap, nil
}

func (c *Catalog) remember(env string, s *Snapshot, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.cache[env]; ok && old.snap.Seq() > s.Seq() {
		return // a concurrent load stored a newer one
	}
	c.cache[env] = cached{snap: s, checked: now}
}

// forget drops env's cached snapshot after a change.
func (c *Catalog) forget(env string) {
	c.mu.Lock()
	delete(c.cache, env)
	c.mu.Unlock()
}

// Change is one change to one flag.
type Change struct {
	Env string
	// Flag is the new definition; nil deletes the flag.
	Flag *Flag
	// Key names the flag; with Flag set it must be Flag.Key or empty.
	Key string
	// Base is the version the change was made against: the store refuses
	// it with ErrConflict when the flag has moved on. 0: whatever is
	// current (last writer wins).
	Base int64
	// Actor and Reason are recorded with the version.
	Actor, Reason string
}

// Changed is one stored change: the version before (nil for a new flag)
// and the version stored.
type Changed struct {
	Before *Version `json:"before,omitempty"`
	After  Version  `json:"after"`
}

// Describe says what changed, for audit records: "flag new-ai-agent v4:
// rollout on 10% → rollout on 25%".
func (c Changed) Describe() string {
	after := "deleted"
	if c.After.Flag != nil {
		after = c.After.Flag.Summary()
	}
	if c.Before == nil || c.Before.Flag == nil {
		return fmt.Sprintf("flag %s v%d: created: %s", c.After.Key, c.After.Version, after)
	}
	return fmt.Sprintf("flag %s v%d: %s → %s", c.After.Key, c.After.Version, c.Before.Flag.Summary(), after)
}

// Apply stores changes to one environment's flags in one transaction:
// all or none. Changes that leave a flag as it is store nothing; the
// result lists the versions stored. Every flag is validated first.
func (c *Catalog) Apply(ctx context.Context, env string, changes []Change) ([]Changed, error) {
	for _, ch := range changes {
		if ch.Flag != nil {
			if errs := Validate(*ch.Flag); len(errs) > 0 {
				return nil, fmt.Errorf("flag %s: %w", ch.Flag.Key, errs)
			}
		}
	}
	current, err := c.current(ctx, env)
	if err != nil {
		return nil, err
	}
	var out []Changed
	var vs []Version
	now := c.opts.Now()
	for _, ch := range changes {
		key := ch.Key
		if ch.Flag != nil {
			key = ch.Flag.Key
			f := ch.Flag.Clone()
			inferType(&f)
			ch.Flag = &f
		}
		before, exists := current[key]
		var beforeV int64
		if exists {
			beforeV = before.Version
		}
		if ch.Base != 0 && ch.Base != beforeV {
			return nil, fmt.Errorf("flag %s is at version %d, not %d: %w", key, beforeV, ch.Base, ErrConflict)
		}
		if ch.Flag == nil && (!exists || before.Flag == nil) {
			return nil, fmt.Errorf("environment %s has no flag %q: %w", env, key, ErrNotFound)
		}
		if exists && sameFlag(before.Flag, ch.Flag) {
			continue
		}
		v := Version{Env: env, Key: key, Version: beforeV + 1, Flag: ch.Flag, Actor: ch.Actor, Reason: ch.Reason, Time: now}
		vs = append(vs, v)
		chd := Changed{After: v}
		if exists {
			b := before
			chd.Before = &b
		}
		out = append(out, chd)
	}
	if len(vs) == 0 {
		return nil, nil
	}
	stored, err := c.opts.Store.AppendFlagVersions(ctx, vs)
	c.forget(env)
	if err != nil {
		return nil, fmt.Errorf("store flags of %s: %w", env, err)
	}
	for i := range out {
		out[i].After = stored[i]
	}
	return out, nil
}

// Set stores one flag (created or replaced).
func (c *Catalog) Set(ctx context.Context, env string, ch Change) (*Changed, error) {
	out, err := c.Apply(ctx, env, []Change{ch})
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// SetRollout sets the percentage of flag key's rollout, keeping its
// variant, and returns the change (nil when it was already there). A flag
// without a rollout fails: give it one (rollout: {variant: on,
// percentage: 0}) first.
func (c *Catalog) SetRollout(ctx context.Context, env, key string, pct float64, actor, reason string) (*Changed, error) {
	cur, err := c.Get(ctx, env, key)
	if err != nil {
		return nil, err
	}
	if cur.Flag.Rollout == nil {
		return nil, fmt.Errorf("flag %s in %s has no rollout to set a percentage of: add rollout: {variant: <on-variant>, percentage: 0} to it", key, env)
	}
	f := cur.Flag.Clone()
	f.Rollout.Percentage = pct
	return c.Set(ctx, env, Change{Flag: &f, Base: cur.Version, Actor: actor, Reason: reason})
}

// Get returns flag key's current version; ErrNotFound when it does not
// exist (or was deleted).
func (c *Catalog) Get(ctx context.Context, env, key string) (Version, error) {
	current, err := c.current(ctx, env)
	if err != nil {
		return Version{}, err
	}
	v, ok := current[key]
	if !ok || v.Flag == nil {
		return Version{}, fmt.Errorf("environment %s has no flag %q: %w", env, key, ErrNotFound)
	}
	return v, nil
}

// List returns the current versions of env's flags, deleted ones left
// out, ordered by key.
func (c *Catalog) List(ctx context.Context, env string) ([]Version, error) {
	vs, err := c.opts.Store.CurrentFlags(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", env, err)
	}
	out := vs[:0]
	for _, v := range vs {
		if v.Flag != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// History returns every version of flag key, oldest first; ErrNotFound
// when it never existed.
func (c *Catalog) History(ctx context.Context, env, key string) ([]Version, error) {
	vs, err := c.opts.Store.FlagHistory(ctx, env, key)
	if err != nil {
		return nil, fmt.Errorf("history of flag %s: %w", key, err)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("environment %s never had a flag %q: %w", env, key, ErrNotFound)
	}
	return vs, nil
}

// Revert stores, as a new version, flag key as it was at version to (0:
// the version before the current one); a version that deleted the flag
// deletes it again.
func (c *Catalog) Revert(ctx context.Context, env, key string, to int64, actor, reason string) (*Changed, error) {
	vs, err := c.History(ctx, env, key)
	if err != nil {
		return nil, err
	}
	cur := vs[len(vs)-1]
	if to == 0 {
		to = cur.Version - 1
	}
	if to < 1 || to > cur.Version {
		return nil, fmt.Errorf("flag %s has versions 1 to %d; there is no version %d to revert to: %w", key, cur.Version, to, ErrNotFound)
	}
	target := vs[to-1]
	if reason == "" {
		reason = fmt.Sprintf("revert to version %d", to)
	}
	ch := Change{Key: key, Flag: target.Flag, Base: cur.Version, Actor: actor, Reason: reason}
	if target.Flag == nil && cur.Flag == nil {
		return nil, nil
	}
	out, err := c.Apply(ctx, env, []Change{ch})
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// current returns the newest version of each of env's flags by key.
func (c *Catalog) current(ctx context.Context, env string) (map[string]Version, error) {
	vs, err := c.opts.Store.CurrentFlags(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", env, err)
	}
	m := make(map[string]Version, len(vs))
	for _, v := range vs {
		m[v.Key] = v
	}
	return m, nil
}

// sameFlag compares two definitions as stored (JSON), so 1 and 1.0 match.
func sameFlag(a, b *Flag) bool {
	if a == nil || b == nil {
		return a == b
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err := errors.Join(err1, err2); err != nil {
		return false
	}
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}
