package kuberouter

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// TestRolling_casesMatchDeployment: for more maxSurge/maxUnavailable
// settings, gantry's rolling update on Kubernetes goes through the same
// ReplicaSet sizes as kube-controller-manager's Deployment in the same
// cluster (TestRolling_matchesDeployment has 3 replicas at 1/0). The pods
// of both are made ready by kwok as soon as they are scheduled, so that
// both controllers see the same readiness.
func TestRolling_casesMatchDeployment(t *testing.T) {
	for _, tc := range []struct {
		replicas           int
		surge, unavailable intstr.IntOrString
		// exact: the sequences are equal. False: when two new pods can be
		// pending at once (a surge of 2, or 1 with 1 unavailable) the
		// sequence of either controller depends on how many turned ready
		// between two of its syncs, so both must keep the same bounds.
		exact bool
	}{
		{3, intstr.FromInt32(0), intstr.FromInt32(1), true},
		{4, intstr.FromString("25%"), intstr.FromString("25%"), false},
		{5, intstr.FromInt32(2), intstr.FromInt32(0), false},
	} {
		t.Run(fmt.Sprintf("%d replicas %s/%s", tc.replicas, tc.surge.String(), tc.unavailable.String()), func(t *testing.T) {
			g := startGantry(t, NewService)
			trace := traceReplicas(t, g.env, g.ns, kube.LabelApp+"=api")
			spec := strings.NewReplacer(
				"replicas: 3", fmt.Sprintf("replicas: %d", tc.replicas),
				"rollingUpdate: {maxSurge: 1, maxUnavailable: 0}", fmt.Sprintf("rollingUpdate: {maxSurge: %s, maxUnavailable: %s}", yamlValue(tc.surge), yamlValue(tc.unavailable)),
			).Replace(strings.ReplaceAll(rollingSpec, "annotations: {kwok.x-k8s.io/status: custom KWOK_STATUS}", "annotations: {}"))
			g.apply(spec)
			g.waitPhase(g.deploy("api", "production", "v1").ID, rollout.Succeeded)
			g.waitPhase(g.deploy("api", "production", "v2").ID, rollout.Succeeded)
			ours := trace.String()
			deploy := deploymentTrace(t, g, int32(tc.replicas), tc.surge, tc.unavailable)
			// gantry's trace starts with revision 1 coming up from nothing;
			// the update starts where it has them all.
			update := ours
			if i := strings.Index(ours, fmt.Sprintf("%d → %d/", tc.replicas, tc.replicas)); i >= 0 {
				update = ours[i:]
			}
			switch {
			case tc.exact && sizes(update) != sizes(deploy):
				t.Errorf("gantry's rolling update went\n  %s\nthe Deployment's\n  %s", update, deploy)
			case !tc.exact:
				// Percentages as Kubernetes takes them: maxSurge rounded up,
				// maxUnavailable down.
				surge, _ := intstr.GetScaledValueFromIntOrPercent(&tc.surge, tc.replicas, true)
				unavailable, _ := intstr.GetScaledValueFromIntOrPercent(&tc.unavailable, tc.replicas, false)
				lo, hi := tc.replicas-unavailable, tc.replicas+surge
				for _, tr := range []string{update, deploy} {
					if err := withinBounds(sizes(tr), lo, hi); err != nil {
						t.Errorf("%s: %v", tr, err)
					}
				}
			}
			t.Logf("gantry (revision 1/revision 2): %s; Deployment: %s; the same sizes: %t", ours, deploy, sizes(update) == sizes(deploy))
		})
	}
}

// yamlValue renders v as a spec value: a number, or a quoted percentage.
func yamlValue(v intstr.IntOrString) string {
	if v.Type == intstr.Int {
		return v.String()
	}
	return fmt.Sprintf("%q", v.StrVal)
}

// sizes normalizes a trace to its sequence of sizes: a ReplicaSet not
// created yet counts 0 (a Deployment creates its new ReplicaSet at 0,
// gantry when it first has instances), and a step that changes nothing
// after that goes.
func sizes(trace string) string {
	steps := strings.Split(trace, " → ")
	n := 0
	for _, s := range steps {
		n = max(n, strings.Count(s, "/")+1)
	}
	var out []string
	for _, s := range steps {
		s += strings.Repeat("/0", n-strings.Count(s, "/")-1)
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return strings.Join(out, " → ")
}

// withinBounds checks a normalized old/new trace of a rolling update: the
// old ReplicaSet only shrinks, the new one only grows, and the two always
// hold between lo and hi pods.
func withinBounds(trace string, lo, hi int) error {
	prevOld, prevNew := -1, -1
	for _, step := range strings.Split(trace, " → ") {
		var o, n int
		if _, err := fmt.Sscanf(step, "%d/%d", &o, &n); err != nil {
			return fmt.Errorf("step %q: %v", step, err)
		}
		if o+n < lo || o+n > hi {
			return fmt.Errorf("step %s holds %d pods, outside [%d, %d]", step, o+n, lo, hi)
		}
		if (prevOld >= 0 && o > prevOld) || n < prevNew {
			return fmt.Errorf("step %s after %d/%d: the old ReplicaSet grew or the new one shrank", step, prevOld, prevNew)
		}
		prevOld, prevNew = o, n
	}
	return nil
}
