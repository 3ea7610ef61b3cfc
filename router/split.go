package router

import (
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/rollout"
)

// Route is one revision's place in an environment's routing: its relative
// share of new requests and the addresses that serve it.
type Route struct {
	Revision int
	Version  string
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

// Split returns the routes for instances under the split t, sorted by
// revision: the ready, running instances grouped by revision, each
// revision weighted by t.Weights, or, when t.Weights is nil or gives no
// positive weight to a revision with a ready instance, by its number of
// ready instances (requests spread evenly over instances). Revisions
// without a ready instance are left out.
func Split(instances []rollout.Instance, t rollout.Traffic) []Route {
	var routes []Route
	at := map[int]int{} // revision -> index in routes
	for _, in := range instances {
		if !in.Ready || in.State != rollout.Running {
			continue
		}
		i, ok := at[in.Revision]
		if !ok {
			i = len(routes)
			at[in.Revision] = i
			routes = append(routes, Route{Revision: in.Revision, Version: in.Version})
		}
		routes[i].Endpoints = append(routes[i].Endpoints, Endpoint{ID: in.ID, Addr: in.Addr})
	}
	weighted := false
	for n, w := range t.Weights {
		if _, ok := at[n]; ok && w > 0 {
			weighted = true
		}
	}
	for i := range routes {
		rt := &routes[i]
		rt.Weight = len(rt.Endpoints)
		if weighted {
			rt.Weight = max(t.Weights[rt.Revision], 0)
		}
		slices.SortFunc(rt.Endpoints, func(a, b Endpoint) int { return strings.Compare(a.ID, b.ID) })
	}
	slices.SortFunc(routes, func(a, b Route) int { return a.Revision - b.Revision })
	return routes
}

// PreviewSplit returns the routes of a preview listener: the ready
// instances of revision t.Preview, evenly; none when t.Preview is 0.
func PreviewSplit(instances []rollout.Instance, t rollout.Traffic) []Route {
	if t.Preview == 0 {
		return nil
	}
	var of []rollout.Instance
	for _, in := range instances {
		if in.Revision == t.Preview {
			of = append(of, in)
		}
	}
	return Split(of, rollout.Traffic{})
}

// Shares returns each route's share of new requests in percent; routes
// that sum to no weight get none.
func Shares(routes []Route) map[int]float64 {
	total := 0
	for _, rt := range routes {
		total += rt.Weight
	}
	out := make(map[int]float64, len(routes))
	for _, rt := range routes {
		if total > 0 {
			out[rt.Revision] = 100 * float64(rt.Weight) / float64(total)
		}
	}
	return out
}
