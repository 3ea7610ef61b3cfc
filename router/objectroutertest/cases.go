package objectroutertest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// canaryAt opens the environment with two pods of revisions 1 and 2 and
// waits for the split {1: 100-w, 2: w}.
func (s *suite) canaryAt(w int) {
	s.t.Helper()
	s.open(false)
	s.addPods(1, 2)
	s.addPods(2, 2)
	s.setTraffic(rollout.Traffic{Weights: shift(w)})
	s.waitSplit(fmt.Sprintf("%d/%d", 100-w, w), false, s.asked(shift(w)))
}

// blueWithPreview opens the environment with a preview, blue (revision 1,
// blue pods) taking the traffic and the preview on green (revision 2,
// green pods).
func (s *suite) blueWithPreview(blue, green int) {
	s.t.Helper()
	s.open(true)
	s.addPods(1, blue)
	s.addPods(2, green)
	s.setTraffic(rollout.Traffic{Weights: map[int]int{1: 100}, Preview: 2})
	s.waitSplit("blue", false, Split{1: 100})
	s.waitSplit("the preview on green", true, Split{2: 100})
}

// shift returns the weights {1: 100-w, 2: w}.
func shift(w int) map[int]int { return map[int]int{1: 100 - w, 2: w} }

// testWeights: a 90/10 split gives the canary a tenth (a Service router:
// its pods' share, and says so in Stats), and the EndpointSlices the
// cluster's controller makes agree with the Services' selectors.
func testWeights(t *testing.T, s *suite) {
	s.open(false)
	s.addPods(1, 3)
	s.addPods(2, 1)
	s.setTraffic(rollout.Traffic{Weights: shift(10)})
	s.waitSplit("90/10", false, s.asked(shift(10)))
	s.checkEndpointSlices()
}

// testShift: the canary's weight goes 10, 25, 50, 100; at 100 the stable
// revision takes nothing; then the traffic is pinned back to it (a
// rollback).
func testShift(t *testing.T, s *suite) {
	s.open(false)
	s.addPods(1, 2)
	s.addPods(2, 2)
	for _, w := range []int{10, 25, 50, 100} {
		s.setTraffic(rollout.Traffic{Weights: shift(w)})
		s.waitSplit(fmt.Sprintf("step %d%%", w), false, s.asked(shift(w)))
	}
	s.waitSplit("all on the canary", false, Split{2: 100})
	s.setTraffic(rollout.Traffic{Weights: map[int]int{1: 100}})
	s.waitSplit("pinned back to revision 1", false, Split{1: 100})
}

// testRolling: without weights every ready pod of every revision takes an
// equal share, following the pods as they come.
func testRolling(t *testing.T, s *suite) {
	s.open(false)
	s.addPods(1, 3)
	s.addPods(2, 1)
	s.waitSplit("spread over the pods after Open", false, Split{1: 75, 2: 25})
	s.setTraffic(rollout.Traffic{})
	s.waitSplit("spread over the pods", false, Split{1: 75, 2: 25})
	s.addPods(2, 1)
	s.waitSplit("spread over the pods with one more", false, Split{1: 60, 2: 40})
}

// testBlueGreen: the preview serves green while blue takes the traffic;
// the switch moves everything at once: no state between the router's
// writes sends traffic to both, or to neither.
func testBlueGreen(t *testing.T, s *suite) {
	s.blueWithPreview(2, 2)
	w := s.record()
	s.setTraffic(rollout.Traffic{Weights: map[int]int{2: 100}})
	states, labels := w.states(s)
	if len(states) == 0 {
		t.Fatal("the switch wrote nothing")
	}
	for i, o := range states {
		got, err := o.Split(s.entry(false))
		if err != nil {
			t.Fatalf("after %s: %v", labels[i], err)
		}
		if !got.near(Split{1: 100}) && !got.near(Split{2: 100}) {
			t.Errorf("after write %d of %d (%s) the objects give %s; want all on blue or all on green", i+1, len(states), labels[i], got)
		}
	}
	s.waitSplit("green after the switch", false, Split{2: 100})
	s.open(false)
	if a := s.r.PreviewAddr(app, env); a != "" {
		t.Errorf("PreviewAddr once no preview is asked for = %q, want none", a)
	}
}

// testIdempotent: applying the same traffic, Open and instances again
// writes nothing.
func testIdempotent(t *testing.T, s *suite) {
	s.canaryAt(20)
	before := s.snapshot()
	s.setTraffic(rollout.Traffic{Weights: shift(20)})
	s.open(false)
	s.setInstances()
	s.setTraffic(rollout.Traffic{Weights: shift(20)})
	if after := s.snapshot(); !sameVersions(before, after) {
		t.Errorf("applying the same again wrote objects:\n before %s\n after  %s", describeVersions(before), describeVersions(after))
	}
}

// testRemoved: a revision whose weight went to 0 and whose pods went
// takes nothing when a third revision comes.
func testRemoved(t *testing.T, s *suite) {
	s.canaryAt(50)
	s.setTraffic(rollout.Traffic{Weights: map[int]int{1: 0, 2: 100}})
	s.waitSplit("revision 1 at 0", false, Split{2: 100})
	s.deletePods(1)
	s.addPods(3, 2)
	w := map[int]int{2: 90, 3: 10}
	if !s.h.TwoRevisions {
		w[1] = 0
	}
	s.setTraffic(rollout.Traffic{Weights: w})
	s.waitSplit("90/10 between revisions 2 and 3", false, s.asked(w))
}

// testMaintenance: in maintenance no pod takes traffic (the data plane
// answers 503); afterwards the split comes back.
func testMaintenance(t *testing.T, s *suite) {
	s.open(false)
	s.addPods(1, 2)
	s.setTraffic(rollout.Traffic{Weights: map[int]int{1: 100}})
	s.waitSplit("revision 1", false, Split{1: 100})
	if err := s.r.SetMaintenance(app, env, true); err != nil {
		t.Fatal(err)
	}
	s.waitSplit("maintenance", false, Split{0: 100})
	if err := s.r.SetMaintenance(app, env, false); err != nil {
		t.Fatal(err)
	}
	s.waitSplit("after maintenance", false, Split{1: 100})
}

// testRestart: a new router (a restarted gantry) opening the environment
// leaves the split as it finds it, writing nothing, until it is told the
// traffic; then it routes as told.
func testRestart(t *testing.T, s *suite) {
	s.blueWithPreview(3, 1)
	before := s.snapshot()
	s.r = s.h.Restart()
	s.open(true)
	s.setInstances()
	if after := s.snapshot(); !sameVersions(before, after) {
		t.Errorf("the restarted router wrote objects before it was told the traffic:\n before %s\n after  %s", describeVersions(before), describeVersions(after))
	}
	s.waitSplit("blue after the restart", false, Split{1: 100})
	s.setTraffic(rollout.Traffic{Weights: map[int]int{2: 100}})
	s.waitSplit("green once told", false, Split{2: 100})
}

func (s *suite) snapshot() Objects {
	s.t.Helper()
	o, err := s.read()
	if err != nil {
		s.t.Fatal(err)
	}
	return o
}

func describeVersions(o Objects) string {
	return versions(o.Services) + " " + versions(o.Routes) + " " + versions(o.Ingresses)
}

// deletePods deletes the pods of revision rev at once and tells the router.
func (s *suite) deletePods(rev int) {
	s.t.Helper()
	zero := int64(0)
	var kept = s.pods[:0]
	for _, p := range s.pods {
		if p.Labels[kube.LabelRevision] != strconv.Itoa(rev) {
			kept = append(kept, p)
			continue
		}
		err := s.h.Client.CoreV1().Pods(s.h.Namespace).Delete(context.Background(), p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil {
			s.t.Fatalf("delete pod %s: %v", p.Name, err)
		}
	}
	s.pods = kept
	s.setInstances()
}

// checkEndpointSlices: for every Service with a selector, the ready
// endpoints kube-controller-manager puts in its EndpointSlices are the
// pods the interpreter selects.
func (s *suite) checkEndpointSlices() {
	s.t.Helper()
	s.waitFor("EndpointSlices that agree with the selectors", func() (bool, string) {
		o, err := s.read()
		if err != nil {
			return false, err.Error()
		}
		for name, svc := range o.Services {
			if len(svc.Spec.Selector) == 0 {
				continue
			}
			want := selectedPods(o, name)
			got, err := s.endpointPods(name)
			if err != nil {
				return false, err.Error()
			}
			if !slices.Equal(got, want) {
				return false, fmt.Sprintf("Service %s: EndpointSlices have %v, its selector picks %v", name, got, want)
			}
		}
		return true, ""
	})
}

func selectedPods(o Objects, svc string) []string {
	var out []string
	for _, p := range o.Pods {
		one := o
		one.Pods = []corev1.Pod{p}
		if sp := one.serviceSplit(svc, nil); sp[0] == 0 {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

// endpointPods returns the pods of a Service's ready endpoints.
func (s *suite) endpointPods(svc string) ([]string, error) {
	list, err := s.h.Client.DiscoveryV1().EndpointSlices(s.h.Namespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sl := range list.Items {
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready && ep.TargetRef != nil {
				out = append(out, ep.TargetRef.Name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
