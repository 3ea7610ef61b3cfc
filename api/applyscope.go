package api

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gantry-dev/gantry/spec"
)

// envChange is one environment an apply touches, and how.
type envChange struct {
	Env string
	// How is "adds", "drops", "changes" or "keeps".
	How string
}

// applyScope lists every environment of the stored app (nil: a new app)
// and of next, in that order, with what the apply does to it: adds, drops,
// changes (its resolved spec, its own entry or the app's metadata differ)
// or keeps. An apply needs the role on each of them: the stored spec is
// one document, so even an apply that changes only staging rewrites
// production's record, and a shared field such as spec.workload.command
// changes every environment.
func applyScope(stored, next *spec.App) []envChange {
	var out []envChange
	if stored == nil {
		for _, e := range next.Environments {
			out = append(out, envChange{e.Name, "adds"})
		}
		return out
	}
	metaChanged := !sameJSON(stored.Metadata, next.Metadata) || stored.APIVersion != next.APIVersion || stored.Kind != next.Kind
	for _, e := range stored.Environments {
		n, ok := next.Environment(e.Name)
		switch {
		case !ok:
			out = append(out, envChange{e.Name, "drops"})
		case metaChanged || !sameJSON(e, n) || !sameResolved(stored, next, e.Name):
			out = append(out, envChange{e.Name, "changes"})
		default:
			out = append(out, envChange{e.Name, "keeps"})
		}
	}
	for _, e := range next.Environments {
		if _, ok := stored.Environment(e.Name); !ok {
			out = append(out, envChange{e.Name, "adds"})
		}
	}
	return out
}

func sameResolved(a, b *spec.App, env string) bool {
	ra, errA := a.Resolve(env)
	rb, errB := b.Resolve(env)
	return errA == nil && errB == nil && sameJSON(ra, rb)
}

// sameJSON compares two values by their JSON encoding, which is what the
// store keeps (so nil and empty lists compare as the store would return them).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func (c envChange) String() string { return fmt.Sprintf("%s environment %s", c.How, c.Env) }
