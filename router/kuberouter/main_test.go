package kuberouter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/internal/testbin"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// samplePath is the sample workload binary the pods' processes run.
var samplePath string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "github.com/gantry-dev/gantry/cmd/gantry-sample", &samplePath))
}

// timeout bounds every wait: generous, so a slow machine only makes the
// tests slower.
const waitTimeout = 3 * time.Minute

// gantry is one gantry leader on the test control plane: the kubernetes
// backend and a router acting with the shipped RBAC Role, the engine, and
// a SQLite store that outlives it (restart makes the next leader).
type gantry struct {
	t         *testing.T
	env       *k8stestenv.Env
	ns        string
	cluster   *kube.Cluster
	dbPath    string
	newRouter func(Options) (*Router, error)
	specs     sync.Map // "app/env" -> *spec.Kubernetes, resolved

	store   *sqlite.Store
	backend *kube.Backend
	router  router.Router
	engine  *rollout.Engine
	stop    context.CancelFunc
	done    chan struct{}
	events  *eventLog
}

type eventLog struct {
	mu   sync.Mutex
	list []rollout.Event
}

func (l *eventLog) add(e rollout.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, e)
}

// message returns the last message of an event with reason, "" when none.
func (l *eventLog) message(reason rollout.Reason) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.list) - 1; i >= 0; i-- {
		if l.list[i].Reason == reason {
			return l.list[i].Message
		}
	}
	return ""
}

func (l *eventLog) all() []rollout.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

func (l *eventLog) has(reason rollout.Reason) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.list, func(e rollout.Event) bool { return e.Reason == reason })
}

// startGantry starts gantry in a fresh namespace of the test control plane.
func startGantry(t *testing.T, newRouter func(Options) (*Router, error)) *gantry {
	t.Helper()
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-rollout")
	env.RunPods(t, ns, kube.LabelManagedBy+"="+kube.ManagedBy, samplePath)
	c, err := kube.Connect(context.Background(), kube.Config{REST: env.AsGantry(t, ns), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	g := &gantry{t: t, env: env, ns: ns, cluster: c, dbPath: filepath.Join(t.TempDir(), "gantry.db"), newRouter: newRouter, events: &eventLog{}}
	g.start()
	t.Cleanup(g.shutdown)
	return g
}

// start makes the backend, router and engine over the store, recovers
// what the cluster runs, and runs the engine.
func (g *gantry) start() {
	t := g.t
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, g.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	g.store = st
	r, err := g.newRouter(Options{Cluster: g.cluster, Event: g.events.add, Spec: func(app, env string) *spec.Kubernetes {
		k, _ := g.specs.Load(app + "/" + env)
		k8s, _ := k.(*spec.Kubernetes)
		return k8s
	}})
	if err != nil {
		t.Fatal(err)
	}
	g.router = r
	// This leader's backend and router only: a released backend's
	// informers may still report while the next leader starts.
	var self atomic.Pointer[kube.Backend]
	b, err := kube.New(ctx, kube.Options{Cluster: g.cluster, Event: g.events.add,
		OnChange: func(app, env string) {
			if b := self.Load(); b != nil {
				_ = r.SetInstances(app, env, b.Instances(app, env))
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	self.Store(b)
	g.backend = b
	lookup := func(app, env string, n int) (rollout.Revision, error) { return st.GetRevision(ctx, app, env, n) }
	if err := b.Recover(ctx, lookup); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	apps, err := st.ListApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		g.open(a.Spec)
	}
	e, err := rollout.New(rollout.Options{Store: st, Backend: b, Router: g.router, Metrics: g.router,
		Strategies: strategy.All(), Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g.engine = e
	runCtx, cancel := context.WithCancel(ctx)
	g.stop, g.done = cancel, make(chan struct{})
	go func() { defer close(g.done); _ = e.Run(runCtx) }()
}

// open opens every environment of app in the router.
func (g *gantry) open(app spec.App) {
	g.t.Helper()
	for _, e := range app.Environments {
		resolved, err := app.Resolve(e.Name)
		if err != nil {
			g.t.Fatal(err)
		}
		d, _ := strategy.Describe(resolved)
		g.specs.Store(app.Metadata.Name+"/"+e.Name, resolved.Kubernetes)
		if err := g.router.Open(router.Environment{App: app.Metadata.Name, Name: e.Name, Preview: d.Preview}); err != nil {
			g.t.Fatalf("Open: %v", err)
		}
	}
}

// restart stops this leader (the cluster keeps running) and starts the next.
func (g *gantry) restart() {
	g.t.Helper()
	g.stopLeader()
	g.start()
}

func (g *gantry) stopLeader() {
	g.stop()
	<-g.done
	g.backend.Release()
	_ = g.router.Close(context.Background())
	_ = g.store.Close()
}

func (g *gantry) shutdown() {
	if g.store != nil {
		g.stopLeader()
		g.store = nil
	}
}

// apply stores the app's spec, as `gantry apply` does, and opens it.
func (g *gantry) apply(yaml string) spec.App {
	g.t.Helper()
	app, err := spec.Parse("gantry.yaml", []byte(strings.ReplaceAll(yaml, "NAMESPACE", g.ns)))
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.store.PutApp(context.Background(), rollout.AppRecord{Name: app.Metadata.Name, Spec: *app, UpdatedAt: time.Now()}); err != nil {
		g.t.Fatal(err)
	}
	g.open(*app)
	return *app
}

func (g *gantry) deploy(app, env, version string) rollout.Rollout {
	g.t.Helper()
	r, err := g.engine.Deploy(context.Background(), rollout.DeployRequest{App: app, Env: env, Version: version, Actor: "test"})
	if err != nil {
		g.t.Fatalf("deploy %s: %v", version, err)
	}
	g.engine.Kick()
	return r
}

// waitPhase waits until rollout id is in phase.
func (g *gantry) waitPhase(id int64, phase rollout.Phase) rollout.Rollout {
	g.t.Helper()
	var r rollout.Rollout
	waitFor(g.t, fmt.Sprintf("rollout %d %s", id, phase), func() (bool, string) {
		var err error
		r, err = g.store.GetRollout(context.Background(), id)
		return err == nil && r.Phase == phase, fmt.Sprintf("%+v %v", r, err)
	})
	return r
}

// replicas returns the spec.replicas of each gantry ReplicaSet, by revision.
func (g *gantry) replicas() map[string]int32 {
	list, err := g.env.Client.AppsV1().ReplicaSets(g.ns).List(context.Background(), metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + kube.ManagedBy})
	if err != nil {
		g.t.Fatal(err)
	}
	out := map[string]int32{}
	for _, rs := range list.Items {
		out[rs.Labels[kube.LabelRevision]] = *rs.Spec.Replicas
	}
	return out
}

func (g *gantry) service(name string) *corev1.Service {
	g.t.Helper()
	s, err := g.env.Client.CoreV1().Services(g.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		g.t.Fatal(err)
	}
	return s
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s; now: %s", waitTimeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replicaTrace records the sequence of replica counts of the ReplicaSets
// in a namespace selected by sel, as "old/new" pairs in creation order,
// one entry per change.
type replicaTrace struct {
	mu    sync.Mutex
	order []string // ReplicaSet names, by creation
	cur   map[string]int32
	steps []string
}

func traceReplicas(t *testing.T, env *k8stestenv.Env, ns, sel string) *replicaTrace {
	tr := &replicaTrace{cur: map[string]int32{}}
	f := informers.NewSharedInformerFactoryWithOptions(env.Client, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
	record := func(obj any) {
		rs, ok := obj.(*appsv1.ReplicaSet)
		if !ok || rs.Spec.Replicas == nil {
			return
		}
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if _, seen := tr.cur[rs.Name]; !seen {
			tr.order = append(tr.order, rs.Name)
		}
		tr.cur[rs.Name] = *rs.Spec.Replicas
		parts := make([]string, len(tr.order))
		for i, n := range tr.order {
			parts[i] = fmt.Sprint(tr.cur[n])
		}
		s := strings.Join(parts, "/")
		if len(tr.steps) == 0 || tr.steps[len(tr.steps)-1] != s {
			tr.steps = append(tr.steps, s)
		}
	}
	_, _ = f.Apps().V1().ReplicaSets().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: record, UpdateFunc: func(_, o any) { record(o) }})
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	f.Start(stop)
	f.WaitForCacheSync(stop)
	return tr
}

func (tr *replicaTrace) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return strings.Join(tr.steps, " → ")
}
