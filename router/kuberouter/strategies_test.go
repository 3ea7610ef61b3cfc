package kuberouter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// canarySpec pauses at 25% and at 50%; its pods are marked ready by kwok.
const canarySpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: 4
  workload: {image: "ghcr.io/gantry-dev/gantry-sample:{{.Version}}", port: 8080}
  progressDeadlineSeconds: 600
  strategy:
    type: Canary
    canary: {steps: [{setWeight: 25}, {pause: {}}, {setWeight: 50}, {pause: {}}]}
  kubernetes:
    router: ROUTER
environments:
  - {name: production, backend: kubernetes, kubernetes: {namespace: NAMESPACE}}
`

// split is what the cluster's traffic objects say: each backend
// Service's share, by Service name.
type split map[string]int

func (s split) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s[k]))
	}
	return strings.Join(parts, " ")
}

// httpRouteSplit reads the HTTPRoute's backendRefs weights.
func httpRouteSplit(g *gantry) (split, error) {
	gc, err := gatewayclient.NewForConfig(g.env.Admin)
	if err != nil {
		return nil, err
	}
	route, err := gc.GatewayV1().HTTPRoutes(g.ns).Get(context.Background(), ServiceName("api", "production"), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := split{}
	for _, rule := range route.Spec.Rules {
		for _, ref := range rule.BackendRefs {
			if ref.Weight != nil && *ref.Weight > 0 {
				out[string(ref.Name)] = int(*ref.Weight)
			}
		}
	}
	return out, nil
}

// ingressSplit reads the main Ingress's backend and the canary Ingress's
// backend and canary-weight annotation, as ingress-nginx splits them.
func ingressSplit(g *gantry) (split, error) {
	ings := g.env.Client.NetworkingV1().Ingresses(g.ns)
	main, err := ings.Get(context.Background(), ServiceName("api", "production"), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	canary, err := ings.Get(context.Background(), CanaryIngressName("api", "production"), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	mainSvc := main.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name
	canarySvc := canary.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name
	if canary.Annotations[AnnotationCanary] != "true" {
		return nil, fmt.Errorf("canary Ingress annotations %v, want %s: true", canary.Annotations, AnnotationCanary)
	}
	var w int
	if _, err := fmt.Sscan(canary.Annotations[AnnotationCanaryWeight], &w); err != nil {
		return nil, fmt.Errorf("canary-weight %q: %v", canary.Annotations[AnnotationCanaryWeight], err)
	}
	out := split{}
	if w < 100 {
		out[mainSvc] = 100 - w
	}
	if w > 0 {
		out[canarySvc] += w
	}
	return out, nil
}

// waitSplit waits for the traffic objects to say want.
func waitSplit(g *gantry, read func(*gantry) (split, error), want split) {
	g.t.Helper()
	waitFor(g.t, "traffic "+want.String(), func() (bool, string) {
		got, err := read(g)
		if err != nil {
			return false, err.Error()
		}
		return got.String() == want.String(), got.String()
	})
}

// waitAllOn waits until revision rev has all the traffic: through its own
// Service, as the rollout's last step sets it, or through the
// environment's Service, as the engine sets it once the rollout has ended
// (steady state: no weights, and only revision rev runs).
func waitAllOn(g *gantry, read func(*gantry) (split, error), rev int) {
	g.t.Helper()
	own := split{RevisionServiceName("api", "production", rev): 100}.String()
	env := split{ServiceName("api", "production"): 100}.String()
	waitFor(g.t, "all traffic on revision "+strconv.Itoa(rev), func() (bool, string) {
		got, err := read(g)
		if err != nil {
			return false, err.Error()
		}
		return got.String() == own || got.String() == env, got.String()
	})
}

// waitPausedAt waits until rollout id pauses at step (a canary step index).
func (g *gantry) waitPausedAt(id int64, step int) {
	g.t.Helper()
	waitFor(g.t, fmt.Sprintf("rollout %d paused at step %d", id, step), func() (bool, string) {
		r, err := g.store.GetRollout(context.Background(), id)
		return err == nil && r.Phase == rollout.Paused && r.Step == step, fmt.Sprintf("phase %s step %d: %s %v", r.Phase, r.Step, r.Message, err)
	})
}

func (g *gantry) promote() {
	g.t.Helper()
	if _, err := g.engine.Promote(context.Background(), rollout.CommandRequest{App: "api", Env: "production", Actor: "test"}, false); err != nil {
		g.t.Fatalf("promote: %v", err)
	}
	g.engine.Kick()
}

// TestCanary_routers: a canary through each weighting router sets the
// route's weights at each step (25, then 50), keeps them through a
// gantry restart at a pause and goes on from there, and ends with the new
// revision taking everything; a second canary aborted at 25% restores
// the stable revision's 100%.
func TestCanary_routers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		new    func(Options) (*Router, error)
		router string
		read   func(*gantry) (split, error)
	}{
		{"gatewayAPI", NewGateway, "{type: gatewayAPI, gateway: {name: public}}", httpRouteSplit},
		{"ingressNginx", NewIngressNginx, "{type: ingressNginx, hostnames: [api.example.com]}", ingressSplit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := startGantry(t, tt.new)
			g.apply(strings.ReplaceAll(canarySpec, "ROUTER", tt.router))
			g.waitPhase(g.deploy("api", "production", "v1").ID, rollout.Succeeded)
			rev := func(n int) string { return RevisionServiceName("api", "production", n) }
			env := ServiceName("api", "production")
			// The first release has no stable revision to split with.
			first, err := tt.read(g)
			if err != nil || (first.String() != split{rev(1): 100}.String() && first.String() != split{env: 100}.String()) {
				t.Fatalf("after v1: traffic %v (%v), want all on revision 1", first, err)
			}

			r2 := g.deploy("api", "production", "v2")
			g.waitPausedAt(r2.ID, 1)
			waitSplit(g, tt.read, split{rev(1): 75, rev(2): 25})
			if got := g.replicas(); got["1"] != 4 || got["2"] < 1 {
				t.Errorf("at 25%%: replicas %v, want revision 1 at 4 and revision 2 running", got)
			}

			// A new leader takes over at the pause: the route stays as it
			// is, and the rollout goes on from its step.
			g.restart()
			if got, err := tt.read(g); err != nil || got.String() != (split{rev(1): 75, rev(2): 25}).String() {
				t.Errorf("right after the restart: traffic %v (%v), want 75/25 kept", got, err)
			}
			g.promote()
			g.waitPausedAt(r2.ID, 3)
			waitSplit(g, tt.read, split{rev(1): 50, rev(2): 50})
			g.promote()
			g.waitPhase(r2.ID, rollout.Succeeded)
			waitAllOn(g, tt.read, 2)
			waitFor(t, "revision 1 scaled away", func() (bool, string) {
				got := g.replicas()
				return got["1"] == 0 && got["2"] == 4, fmt.Sprint(got)
			})

			// Aborted at 25%: back to revision 2 alone.
			r3 := g.deploy("api", "production", "v3")
			g.waitPausedAt(r3.ID, 1)
			waitSplit(g, tt.read, split{rev(2): 75, rev(3): 25})
			if _, err := g.engine.Abort(context.Background(), rollout.CommandRequest{App: "api", Env: "production", Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			g.engine.Kick()
			g.waitPhase(r3.ID, rollout.Aborted)
			waitAllOn(g, tt.read, 2)
			waitFor(t, "revision 3 scaled away", func() (bool, string) {
				got := g.replicas()
				return got["3"] == 0 && got["2"] == 4, fmt.Sprint(got)
			})
		})
	}
}

const blueGreenSpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: 2
  workload: {image: "ghcr.io/gantry-dev/gantry-sample:{{.Version}}", port: 8080}
  progressDeadlineSeconds: 600
  strategy:
    type: BlueGreen
    blueGreen: {autoPromotion: false, scaleDownDelaySeconds: 0}
environments:
  - {name: production, backend: kubernetes, kubernetes: {namespace: NAMESPACE}}
`

// TestBlueGreen_service: the active Service's selector names blue's
// revision while the preview Service names green's; promotion switches
// the active selector in one update; a release aborted before its switch
// leaves the active selector on blue.
func TestBlueGreen_service(t *testing.T) {
	g := startGantry(t, NewService)
	g.apply(blueGreenSpec)
	g.waitPhase(g.deploy("api", "production", "v1").ID, rollout.Succeeded)
	active, preview := ServiceName("api", "production"), PreviewServiceName("api", "production")
	selects := func(name, rev string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("Service %s to select revision %s", name, rev), func() (bool, string) {
			s, err := g.env.Client.CoreV1().Services(g.ns).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return s.Spec.Selector[kube.LabelRevision] == rev && s.Spec.Selector[kube.LabelApp] == "api", fmt.Sprint(s.Spec.Selector)
		})
	}
	// The first release has nothing to switch from: the active Service
	// selects every revision of the environment (only revision 1 runs).
	selects(active, "")

	r2 := g.deploy("api", "production", "v2")
	waitFor(t, "green waiting for promotion", func() (bool, string) {
		r, err := g.store.GetRollout(context.Background(), r2.ID)
		return err == nil && r.Phase == rollout.Paused, fmt.Sprintf("%s %s %v", r.Phase, r.Message, err)
	})
	selects(active, "1")
	selects(preview, "2")
	if got := g.replicas(); got["1"] != 2 || got["2"] != 2 {
		t.Errorf("before the switch: replicas %v, want blue and green at 2 each", got)
	}
	// Every change of the active Service, from here, is recorded: the
	// switch must be one update from revision 1 to revision 2.
	seen := watchSelector(t, g, active)
	g.promote()
	g.waitPhase(r2.ID, rollout.Succeeded)
	selects(active, "2")
	if got := seen(); got != "1 → 2" {
		t.Errorf("the active Service's revision went %s; want one switch 1 → 2", got)
	}
	waitFor(t, "blue scaled away", func() (bool, string) {
		got := g.replicas()
		return got["1"] == 0 && got["2"] == 2, fmt.Sprint(got)
	})

	// Aborted before the switch: the active Service stays on revision 2.
	r3 := g.deploy("api", "production", "v3")
	waitFor(t, "green waiting for promotion", func() (bool, string) {
		r, err := g.store.GetRollout(context.Background(), r3.ID)
		return err == nil && r.Phase == rollout.Paused, fmt.Sprintf("%s %s %v", r.Phase, r.Message, err)
	})
	selects(preview, "3")
	if _, err := g.engine.Abort(context.Background(), rollout.CommandRequest{App: "api", Env: "production", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	g.engine.Kick()
	g.waitPhase(r3.ID, rollout.Aborted)
	selects(active, "2")
	waitFor(t, "the aborted green scaled away", func() (bool, string) {
		got := g.replicas()
		return got["3"] == 0 && got["2"] == 2, fmt.Sprint(got)
	})
}

// watchSelector records, from now, each revision the Service name
// selects, and returns them joined by arrows (the current one first).
func watchSelector(t *testing.T, g *gantry, name string) func() string {
	var mu sync.Mutex
	var revs []string
	f := informers.NewSharedInformerFactoryWithOptions(g.env.Client, 0, informers.WithNamespace(g.ns))
	record := func(obj any) {
		s, ok := obj.(*corev1.Service)
		if !ok || s.Name != name {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if rev := s.Spec.Selector[kube.LabelRevision]; len(revs) == 0 || revs[len(revs)-1] != rev {
			revs = append(revs, rev)
		}
	}
	_, _ = f.Core().V1().Services().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: record, UpdateFunc: func(_, o any) { record(o) }})
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	f.Start(stop)
	f.WaitForCacheSync(stop)
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(revs, " → ")
	}
}
