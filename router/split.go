package router

import (
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/rollout"
)

// Route is one revision's place in an environment's routing: its relative
// share of new requests and the addresses that serve it. A revision's
// baseline group (rollout.GroupBaseline) is a route of its own, counted
// apart.
type Route struct {
	Revision int
	// Group is the instances' group (rollout.Instance.Group): empty for
	// the revision's primary instances.
	Group   string
	Version string
	// Weight is the revision's relative share: it gets Weight divided by
	// the sum of all routes' weights of new requests. Zero: none.
	Weight int
	// Endpoints are the revision's ready instances, sorted by ID.
	Endpoints []Endpoint
}

// Endpoint is one ready instance: its ID and where it serves (host:port).
type Endpoint struct {
	ID, Addr string
}

// Key names a route: a revision and a group of its instances.
type Key struct {
	Revision int
	Group    string
}

// Key returns the route's key.
func (rt Route) Key() Key { return Key{rt.Revision, rt.Group} }

// Split returns the routes for instances under the split t, sorted by
// revision, then group (primary first): the ready, running instances
// grouped by revision and group, the primary groups weighted by
// t.Weights and the baseline groups by t.Baseline, or, when t gives no
// positive weight to a route with a ready instance, each route by its
// number of ready instances (requests spread evenly over instances).
// Routes without a ready instance are left out.
func Split(instances []rollout.Instance, t rollout.Traffic) []Route {
	var routes []Route
	at := map[Key]int{} // index in routes
	for _, in := range instances {
		if !in.Ready || in.State != rollout.Running {
			continue
		}
		k := Key{in.Revision, in.Group}
		i, ok := at[k]
		if !ok {
			i = len(routes)
			at[k] = i
			routes = append(routes, Route{Revision: in.Revision, Group: in.Group, Version: in.Version})
		}
		routes[i].Endpoints = append(routes[i].Endpoints, Endpoint{ID: in.ID, Addr: in.Addr})
	}
	weighted := false
	for i := range routes {
		if weightOf(routes[i].Key(), t) > 0 {
			weighted = true
		}
	}
	for i := range routes {
		rt := &routes[i]
		rt.Weight = len(rt.Endpoints)
		if weighted {
			rt.Weight = weightOf(rt.Key(), t)
		}
		slices.SortFunc(rt.Endpoints, func(a, b Endpoint) int { return strings.Compare(a.ID, b.ID) })
	}
	slices.SortFunc(routes, func(a, b Route) int {
		if a.Revision != b.Revision {
			return a.Revision - b.Revision
		}
		return strings.Compare(a.Group, b.Group)
	})
	return routes
}

// weightOf is a route's weight under t: t.Weights for a primary group,
// t.Baseline for a baseline group, nothing for any other.
func weightOf(k Key, t rollout.Traffic) int {
	switch k.Group {
	case rollout.GroupPrimary:
		return max(t.Weights[k.Revision], 0)
	case rollout.GroupBaseline:
		return max(t.Baseline, 0)
	}
	return 0
}

// PreviewSplit returns the routes of a preview listener: the ready
// primary instances of revision t.Preview, evenly; none when t.Preview is 0.
func PreviewSplit(instances []rollout.Instance, t rollout.Traffic) []Route {
	if t.Preview == 0 {
		return nil
	}
	var of []rollout.Instance
	for _, in := range instances {
		if in.Revision == t.Preview && in.Group == rollout.GroupPrimary {
			of = append(of, in)
		}
	}
	return Split(of, rollout.Traffic{})
}

// Shares returns each route's share of new requests in percent; routes
// that sum to no weight get none.
func Shares(routes []Route) map[Key]float64 {
	total := 0
	for _, rt := range routes {
		total += rt.Weight
	}
	out := make(map[Key]float64, len(routes))
	for _, rt := range routes {
		if total > 0 {
			out[rt.Key()] = 100 * float64(rt.Weight) / float64(total)
		}
	}
	return out
}
