package kuberouter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/spec"
)

// Options configure a router.
type Options struct {
	// Cluster is the connected cluster. Required.
	Cluster *kube.Cluster
	// Spec returns the resolved spec.kubernetes of app in env (namespace,
	// router settings); nil, or a nil result: the cluster's default
	// namespace and no router settings.
	Spec func(app, env string) *spec.Kubernetes
	// Port is the port the Services listen on. Zero: 80.
	Port int
	// Event receives what the router tells users, such as the Service
	// router's replica-ratio split (ReasonReplicaRatio) and the objects
	// it set back (rollout.ReasonDriftCorrected). Nil: dropped.
	Event func(rollout.Event)
	// Resync is how often the router reads back the objects it wrote and
	// sets back what someone else changed (Router.Resync). Zero:
	// DefaultResync; negative: never.
	Resync time.Duration
}

// ReasonReplicaRatio: the Service router was asked for weights it can
// only approximate by the ratio of ready pods; the event says what the
// pods give and how to get exact weights.
const ReasonReplicaRatio = rollout.ReasonReplicaRatio

// servicePermissions are what every router needs in a namespace: the
// calls it makes (get, create, update; delete for a preview Service no
// longer asked for), no more.
var servicePermissions = []kube.Permission{
	{Resource: "services", Verbs: []string{"get", "create", "update", "delete"}},
	{Resource: "configmaps", Verbs: []string{"get", "create"}},
}

// kind is what one router writes.
type kind interface {
	// prepare checks what the router needs beyond servicePermissions
	// (its CRDs, its permissions) in ns.
	prepare(ctx context.Context, c *kube.Cluster, ns string) error
	// apply writes the objects that route st.
	apply(ctx context.Context, r *Router, st *envState) error
	// shares returns each revision's share of new requests, in percent.
	shares(st *envState) map[int]float64
	// adopt sets st's traffic and maintenance from the objects found in
	// the cluster (adopt.go), for a router new in this process.
	adopt(ctx context.Context, r *Router, st *envState) error
}

// noPod is a revision label value no pod has: a Service pinned to it
// selects nothing.
const noPod = "none"

// Router routes each environment through Kubernetes objects (see the
// package documentation). It is safe for concurrent use.
type Router struct {
	opts Options
	kind kind
	stop chan struct{} // closed by Close: ends the resync loop

	// applyMu orders the writes of the traffic objects (Open, SetTraffic,
	// SetMaintenance, Resync): a resync never writes a split older than
	// one just set.
	applyMu sync.Mutex
	mu      sync.Mutex
	envs    map[envKey]*envState
	closed  bool
}

type envKey struct{ app, env string }

type envState struct {
	e           router.Environment
	ns          string
	spec        *spec.Kubernetes
	traffic     rollout.Traffic
	instances   []rollout.Instance
	maintenance bool
	// told is the split last stated in a ReasonReplicaRatio event.
	told string
	// keep leaves the traffic objects found in the cluster as they are
	// (missing ones are created) until the first SetTraffic or
	// SetMaintenance: a restarted gantry does not know the split until the
	// engine sets it again, and must not undo it meanwhile (a blue-green
	// preview taking production traffic, a canary its replica ratio).
	keep bool
	// drift, while resyncing, collects what was set back; nil otherwise.
	drift *drift
}

var _ router.Router = (*Router)(nil)

// NewService returns the Service router.
func NewService(o Options) (*Router, error) { return newRouter(o, serviceKind{}) }

func newRouter(o Options, k kind) (*Router, error) {
	if o.Cluster == nil {
		return nil, errors.New("kubernetes router: no cluster")
	}
	if o.Port == 0 {
		o.Port = 80
	}
	if o.Resync == 0 {
		o.Resync = DefaultResync
	}
	r := &Router{opts: o, kind: k, envs: map[envKey]*envState{}, stop: make(chan struct{})}
	if o.Resync > 0 {
		go r.resyncLoop(o.Resync, r.stop)
	}
	return r, nil
}

// specOf returns app's resolved spec.kubernetes in env, never nil.
func (r *Router) specOf(app, env string) *spec.Kubernetes {
	if r.opts.Spec != nil {
		if k := r.opts.Spec(app, env); k != nil {
			return k
		}
	}
	return &spec.Kubernetes{}
}

func (r *Router) namespace(k *spec.Kubernetes) string {
	if k.Namespace != "" {
		return k.Namespace
	}
	return r.opts.Cluster.Namespace
}

// ServiceName is the name of an environment's Service.
func ServiceName(app, env string) string { return dnsName(app, env) }

// PreviewServiceName is the name of an environment's preview Service.
func PreviewServiceName(app, env string) string { return dnsName(app, env, "preview") }

// Open implements router.Router: it checks the namespace and permissions,
// creates the environment's Service (and its preview Service when asked),
// and removes a preview Service no longer asked for.
func (r *Router) Open(e router.Environment) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errors.New("kubernetes router: closed")
	}
	st := r.envs[envKey{e.App, e.Name}]
	r.mu.Unlock()
	k := r.specOf(e.App, e.Name)
	ns := r.namespace(k)
	if err := r.opts.Cluster.Check(ctx, ns, servicePermissions); err != nil {
		return fmt.Errorf("route %s/%s: %w", e.App, e.Name, err)
	}
	if err := r.kind.prepare(ctx, r.opts.Cluster, ns); err != nil {
		return fmt.Errorf("route %s/%s: %w", e.App, e.Name, err)
	}
	adopted := st == nil
	if adopted {
		st = &envState{keep: true}
	}
	next := *st
	next.e, next.ns, next.spec = e, ns, k
	if adopted {
		if err := r.kind.adopt(ctx, r, &next); err != nil {
			return fmt.Errorf("route %s/%s: read what routes it now: %w", e.App, e.Name, err)
		}
	}
	if err := r.kind.apply(ctx, r, &next); err != nil {
		return err
	}
	if !e.Preview {
		if err := deleteOurs(ctx, r.opts.Cluster, ns, PreviewServiceName(e.App, e.Name)); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.envs[envKey{e.App, e.Name}] = &next
	r.mu.Unlock()
	return nil
}

// serviceKind routes through one Service whose selector follows the traffic.
type serviceKind struct{}

func (serviceKind) prepare(context.Context, *kube.Cluster, string) error { return nil }

func (serviceKind) adopt(ctx context.Context, r *Router, st *envState) error {
	return adoptService(ctx, r, st)
}

func (serviceKind) apply(ctx context.Context, r *Router, st *envState) error {
	app, env := st.e.App, st.e.Name
	sel := selector(app, env, st.traffic, st.maintenance)
	if err := r.ensureService(ctx, st, ServiceName(app, env), sel, st.keep); err != nil {
		return err
	}
	return r.applyPreview(ctx, st)
}

// shares: the selected revisions' ready pods, each an equal share.
func (serviceKind) shares(st *envState) map[int]float64 {
	sel := selector(st.e.App, st.e.Name, st.traffic, st.maintenance)
	ready := map[int]int{}
	total := 0
	for _, in := range st.instances {
		if in.Ready && in.State == rollout.Running && (sel[kube.LabelRevision] == "" || sel[kube.LabelRevision] == strconv.Itoa(in.Revision)) {
			ready[in.Revision]++
			total++
		}
	}
	out := map[int]float64{}
	for rev, n := range ready {
		out[rev] = 100 * float64(n) / float64(total)
	}
	return out
}

// applyPreview points the preview Service, when asked for, at the
// preview revision (at no pod without one).
func (r *Router) applyPreview(ctx context.Context, st *envState) error {
	app, env := st.e.App, st.e.Name
	if st.e.Preview {
		rev := noPod
		if st.traffic.Preview > 0 {
			rev = strconv.Itoa(st.traffic.Preview)
		}
		psel := envSelector(app, env)
		psel[kube.LabelRevision] = rev
		if err := r.ensureService(ctx, st, PreviewServiceName(app, env), psel, st.keep); err != nil {
			return err
		}
	}
	return nil
}

// selector picks the pods the Service sends to: every revision's, or
// only the one revision that has all the traffic, or none in maintenance.
func selector(app, env string, t rollout.Traffic, maintenance bool) map[string]string {
	sel := envSelector(app, env)
	switch {
	case maintenance:
		sel[kube.LabelRevision] = noPod
	case t.Weights != nil:
		if rev, ok := sole(t.Weights); ok {
			sel[kube.LabelRevision] = strconv.Itoa(rev)
		}
	}
	return sel
}

// sole returns the one revision with a positive weight.
func sole(w map[int]int) (int, bool) {
	rev, n := 0, 0
	for r, v := range w {
		if v > 0 {
			rev, n = r, n+1
		}
	}
	return rev, n == 1
}

func envSelector(app, env string) map[string]string {
	return map[string]string{kube.LabelManagedBy: kube.ManagedBy, kube.LabelApp: app, kube.LabelEnv: env}
}

// SetTraffic implements rollout.Router.
func (r *Router) SetTraffic(app, env string, t rollout.Traffic) error {
	return r.update(app, env, func(st *envState) { st.traffic = t })
}

// SetMaintenance implements router.Router: on pins the Service to no pod.
func (r *Router) SetMaintenance(app, env string, on bool) error {
	return r.update(app, env, func(st *envState) { st.maintenance = on })
}

func (r *Router) update(app, env string, change func(*envState)) error {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	r.mu.Lock()
	st, ok := r.envs[envKey{app, env}]
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("route %s/%s: %w", app, env, errNotOpen)
	}
	next := *st
	r.mu.Unlock()
	change(&next)
	next.keep = false
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := r.kind.apply(ctx, r, &next); err != nil {
		return err
	}
	r.mu.Lock()
	cur, ok := r.envs[envKey{app, env}]
	if ok {
		cur.traffic, cur.maintenance, cur.keep = next.traffic, next.maintenance, false
	}
	var msg string
	if ok {
		msg = r.replicaRatio(cur)
	}
	r.mu.Unlock()
	if msg != "" && r.opts.Event != nil {
		r.opts.Event(rollout.Event{Time: time.Now(), App: app, Env: env, Type: rollout.Normal, Reason: ReasonReplicaRatio, Message: msg, Actor: "gantry"})
	}
	return nil
}

// replicaRatio states, once per split asked, what the Service router
// gives for weights over several revisions: the share of ready pods.
func (r *Router) replicaRatio(st *envState) string {
	if _, ok := r.kind.(serviceKind); !ok || st.maintenance || st.traffic.Weights == nil {
		return ""
	}
	if _, one := sole(st.traffic.Weights); one {
		st.told = ""
		return ""
	}
	asked := describeWeights(percent(st.traffic.Weights))
	if asked == st.told {
		return ""
	}
	st.told = asked
	return fmt.Sprintf("the Service router splits by ready pods: asked %s, the pods give %s; set kubernetes.router.type to %s or %s for exact weights",
		asked, describeWeights(r.kind.shares(st)), spec.RouterGatewayAPI, spec.RouterIngressNginx)
}

// describeWeights renders shares as "revision 1 90%, revision 2 10%".
func describeWeights(w map[int]float64) string {
	parts := []string{}
	for _, rev := range slices.Sorted(maps.Keys(w)) {
		parts = append(parts, fmt.Sprintf("revision %d %.0f%%", rev, w[rev]))
	}
	if len(parts) == 0 {
		return "no pod"
	}
	return strings.Join(parts, ", ")
}

// SetInstances implements router.Router: they only feed Stats (the
// endpoints controller follows the pods by itself).
func (r *Router) SetInstances(app, env string, instances []rollout.Instance) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.envs[envKey{app, env}]; ok {
		st.instances = slices.Clone(instances)
	}
	return nil
}

// Drain implements router.Router: it returns at once (see the package
// documentation).
func (r *Router) Drain(ctx context.Context, addr string) error { return nil }

// Addr implements router.Router: the Service's in-cluster address.
func (r *Router) Addr(app, env string) string {
	return r.addr(app, env, ServiceName(app, env), false)
}

// PreviewAddr implements router.Router: the preview Service's address.
func (r *Router) PreviewAddr(app, env string) string {
	return r.addr(app, env, PreviewServiceName(app, env), true)
}

func (r *Router) addr(app, env, name string, preview bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.envs[envKey{app, env}]
	if !ok || (preview && !st.e.Preview) {
		return ""
	}
	return fmt.Sprintf("%s.%s.svc:%d", name, st.ns, r.opts.Port)
}

// Stats implements router.Router: each revision's share is what the
// selector and the ready pods give it (the Service spreads requests over
// ready endpoints); the request counts are zero (see the package
// documentation).
func (r *Router) Stats(app, env string) []router.RevisionStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.envs[envKey{app, env}]
	if !ok {
		return nil
	}
	shares := r.kind.shares(st)
	out := []router.RevisionStats{}
	for _, rev := range slices.Sorted(maps.Keys(shares)) {
		out = append(out, router.RevisionStats{Revision: rev, Weight: shares[rev]})
	}
	return out
}

// RevisionMetrics implements rollout.MetricSource: nothing, as the router
// sees no request.
func (r *Router) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics { return nil }

// Close implements router.Router: the Services stay.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		close(r.stop)
	}
	r.closed = true
	r.envs = map[envKey]*envState{}
	return nil
}
