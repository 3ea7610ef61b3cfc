package kuberouter

import (
	"context"
	"maps"
	"slices"
	"strconv"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// RevisionServiceName is the name of the Service of one revision, which
// the Gateway API and ingress-nginx routers weight.
func RevisionServiceName(app, env string, rev int) string {
	return dnsName(app, env, "r"+strconv.Itoa(rev))
}

// weights returns the share in percent of each revision: the traffic's
// weights, or without them (a rolling update) each revision's share of
// the ready instances; in maintenance none.
func weights(st *envState) map[int]int {
	if st.maintenance {
		return map[int]int{}
	}
	if st.traffic.Weights != nil {
		return maps.Clone(st.traffic.Weights)
	}
	ready := map[int]int{}
	total := 0
	for _, in := range st.instances {
		if in.Ready && in.State == rollout.Running {
			ready[in.Revision]++
			total++
		}
	}
	out := map[int]int{}
	left := 100
	revs := slices.Sorted(maps.Keys(ready))
	for i, rev := range revs {
		w := 100 * ready[rev] / total
		if i == len(revs)-1 {
			w = left
		}
		out[rev], left = w, left-w
	}
	return out
}

// percent turns weights into shares.
func percent(w map[int]int) map[int]float64 {
	out := map[int]float64{}
	for rev, v := range w {
		if v > 0 {
			out[rev] = float64(v)
		}
	}
	return out
}

// ensureRevisionServices creates the Service of every revision in w.
func (r *Router) ensureRevisionServices(ctx context.Context, st *envState, w map[int]int) error {
	for _, rev := range slices.Sorted(maps.Keys(w)) {
		sel := envSelector(st.e.App, st.e.Name)
		sel[kube.LabelRevision] = strconv.Itoa(rev)
		if err := r.ensureService(ctx, st, RevisionServiceName(st.e.App, st.e.Name, rev), sel, false); err != nil {
			return err
		}
	}
	return nil
}
