package featureflag

import (
	"context"
	"strings"
)

// RevertTagged undoes, in env, the changes one actor made under one
// reason prefix, such as the engine's setFlag steps of one rollout (actor
// "gantry", tag "rollout 12 step "): every flag whose current version is
// such a change returns to the version before that actor's run of them.
// Flags someone changed since are left alone. It returns the changes
// stored; a second call stores none.
func (c *Catalog) RevertTagged(ctx context.Context, env, actor, tag, reason string) ([]Changed, error) {
	current, err := c.List(ctx, env)
	if err != nil {
		return nil, err
	}
	tagged := func(v Version) bool { return v.Actor == actor && strings.HasPrefix(v.Reason, tag) }
	var out []Changed
	for _, cur := range current {
		if !tagged(cur) {
			continue
		}
		hist, err := c.History(ctx, env, cur.Key)
		if err != nil {
			return out, err
		}
		first := len(hist) - 1
		for first > 0 && tagged(hist[first-1]) {
			first--
		}
		if first == 0 {
			continue // the tagged change created the flag: nothing to return to
		}
		ch, err := c.Revert(ctx, env, cur.Key, hist[first-1].Version, actor, reason)
		if err != nil {
			return out, err
		}
		if ch != nil {
			out = append(out, *ch)
		}
	}
	return out, nil
}
