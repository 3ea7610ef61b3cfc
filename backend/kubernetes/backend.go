package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	listersappsv1 "k8s.io/client-go/listers/apps/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Options configure a Backend.
type Options struct {
	// Cluster is the connected cluster. Required.
	Cluster *Cluster
	// Namespaces are watched from the start besides Cluster.Namespace, so
	// that Recover finds what earlier servers ran there. A namespace a
	// revision names is watched from its first Scale.
	Namespaces []string
	// OnChange is called when an instance (pod) of app in env changes or
	// goes away. Nil: not called.
	OnChange func(app, env string)
	// Event receives what happens to instances (adoptions, drift). Nil: dropped.
	Event func(rollout.Event)
	// Logf receives diagnostics said once, such as a cluster without the
	// metrics API. Nil: dropped.
	Logf func(format string, args ...any)
	// MetricsInterval is how often instances' CPU and memory are read from
	// the metrics API. Zero: DefaultMetricsInterval (15s).
	MetricsInterval time.Duration
}

// Backend runs revisions as ReplicaSets. It is safe for concurrent use.
type Backend struct {
	opts Options
	c    *Cluster

	mu       sync.Mutex
	watched  map[string]*watch // by namespace
	envNS    map[envKey]string // the namespace each app environment runs in
	held     map[envKey]hold   // HoldScale's answer, until the next Autoscale
	scaled   map[envKey]bool   // environments Autoscale handed to an autoscaler
	metrics  podMetrics
	released bool // Release or Shutdown was called
	stopped  bool // Shutdown was called
}

type envKey struct{ app, env string }

// watch is the informers of one namespace.
type watch struct {
	stop chan struct{}
	pods listerscorev1.PodLister
	rss  listersappsv1.ReplicaSetLister
}

var _ backend.Backend = (*Backend)(nil)

// New checks the default namespace and the namespaces to watch (they
// exist, every permission is granted) and starts watching them.
func New(ctx context.Context, o Options) (*Backend, error) {
	if o.Cluster == nil {
		return nil, errors.New("kubernetes backend: no cluster")
	}
	b := &Backend{opts: o, c: o.Cluster, watched: map[string]*watch{}, envNS: map[envKey]string{}, held: map[envKey]hold{}, scaled: map[envKey]bool{},
		metrics: podMetrics{byPod: map[string]usage{}, said: map[string]bool{}}}
	for _, ns := range append([]string{o.Cluster.Namespace}, o.Namespaces...) {
		if err := b.watchNamespace(ctx, ns); err != nil {
			b.Release()
			return nil, err
		}
	}
	return b, nil
}

// watchNamespace checks ns and starts its informers, once.
func (b *Backend) watchNamespace(ctx context.Context, ns string) error {
	b.mu.Lock()
	_, ok := b.watched[ns]
	b.mu.Unlock()
	if ok {
		return nil
	}
	if err := b.c.Check(ctx, ns, BackendPermissions); err != nil {
		return err
	}
	f := informers.NewSharedInformerFactoryWithOptions(b.c.Client, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelManagedBy + "=" + ManagedBy }))
	pods, rss := f.Core().V1().Pods(), f.Apps().V1().ReplicaSets()
	changed := func(obj any) {
		if m, ok := metaOf(obj); ok && b.opts.OnChange != nil {
			b.opts.OnChange(m.GetLabels()[LabelApp], m.GetLabels()[LabelEnv])
		}
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: changed, UpdateFunc: func(_, obj any) { changed(obj) }, DeleteFunc: changed,
	}); err != nil {
		return err
	}
	if _, err := rss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: b.checkDrift, UpdateFunc: func(_, obj any) { b.checkDrift(obj) },
	}); err != nil {
		return err
	}
	w := &watch{stop: make(chan struct{}), pods: pods.Lister(), rss: rss.Lister()}
	f.Start(w.stop)
	for typ, ok := range f.WaitForCacheSync(ctxDone(ctx, w.stop)) {
		if !ok {
			close(w.stop)
			return fmt.Errorf("watch %v in namespace %q on %s: %w", typ, ns, b.c.Host, context.Cause(ctx))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.watched[ns]; dup || b.released {
		close(w.stop)
		if b.released {
			return errors.New("kubernetes backend: released")
		}
		return nil
	}
	b.watched[ns] = w
	go b.pollMetrics(ns, w.stop)
	return nil
}

// ctxDone is a channel closed when ctx ends or stop closes.
func ctxDone(ctx context.Context, stop chan struct{}) chan struct{} {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		close(done)
	}()
	return done
}

func metaOf(obj any) (metav1.Object, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, ok := obj.(metav1.Object)
	return m, ok
}

// namespaceOf returns where app runs in env: where it was last scaled or
// found, else the default namespace.
func (b *Backend) namespaceOf(app, env string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ns, ok := b.envNS[envKey{app, env}]; ok {
		return ns
	}
	return b.c.Namespace
}

func (b *Backend) watchOf(ns string) *watch {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.watched[ns]
}

// revisionNamespace is where rev runs.
func (b *Backend) revisionNamespace(rev rollout.Revision) string {
	if k := rev.Spec.Kubernetes; k != nil && k.Namespace != "" {
		return k.Namespace
	}
	return b.c.Namespace
}

// Scale implements rollout.Backend: the revision's ReplicaSet (created
// with its owner when missing) gets replicas. It returns once the API
// server has the change.
func (b *Backend) Scale(ctx context.Context, rev rollout.Revision, replicas int) error {
	b.mu.Lock()
	released := b.released
	b.mu.Unlock()
	if released {
		return fmt.Errorf("scale revision %d of %s/%s: the kubernetes backend is shut down", rev.Number, rev.App, rev.Env)
	}
	ns := b.revisionNamespace(rev)
	if err := b.watchNamespace(ctx, ns); err != nil {
		return fmt.Errorf("scale revision %d of %s/%s: %w", rev.Number, rev.App, rev.Env, err)
	}
	b.mu.Lock()
	b.envNS[envKey{rev.App, rev.Env}] = ns
	b.mu.Unlock()
	rsName := ReplicaSetName(rev.App, rev.Env, rev.Number)
	rsClient := b.c.Client.AppsV1().ReplicaSets(ns)
	cur, err := rsClient.Get(ctx, rsName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if replicas == 0 {
			return nil
		}
		owner, err := b.owner(ctx, ns, rev.App, rev.Env)
		if err != nil {
			return err
		}
		rs, err := replicaSet(ns, rev, replicas, owner)
		if err != nil {
			return err
		}
		if _, err := rsClient.Create(ctx, rs, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create ReplicaSet %s/%s: %w", ns, rsName, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read ReplicaSet %s/%s: %w", ns, rsName, err)
	}
	if !ours(cur) {
		return fmt.Errorf("ReplicaSet %s/%s exists and was not created by gantry (no %s=%s label); gantry leaves it alone: rename or delete it", ns, rsName, LabelManagedBy, ManagedBy)
	}
	if cur.Spec.Replicas != nil && int(*cur.Spec.Replicas) == replicas && cur.Annotations[AnnotationReplicas] == strconv.Itoa(replicas) {
		return nil
	}
	if cur.Annotations[AnnotationAutoscaled] == "true" && replicas > 0 {
		return nil // its HorizontalPodAutoscaler sets its replicas (hpa.go)
	}
	return b.setReplicas(ctx, ns, rsName, replicas)
}

// setReplicas patches a ReplicaSet's replicas and gantry's record of them together.
func (b *Backend) setReplicas(ctx context.Context, ns, name string, replicas int) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}},"spec":{"replicas":%d}}`, AnnotationReplicas, strconv.Itoa(replicas), replicas)
	if _, err := b.c.Client.AppsV1().ReplicaSets(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("scale ReplicaSet %s/%s to %d: %w", ns, name, replicas, err)
	}
	return nil
}

// owner returns the ConfigMap that owns app's objects in env, creating it.
func (b *Backend) owner(ctx context.Context, ns, app, env string) (*corev1.ConfigMap, error) {
	return Owner(ctx, b.c, ns, app, env)
}

// Owner returns the ConfigMap that owns app's objects in env in namespace
// ns, creating it when missing. One that exists without gantry's label is
// an error: gantry does not take over what it did not create.
func Owner(ctx context.Context, c *Cluster, ns, app, env string) (*corev1.ConfigMap, error) {
	cms := c.Client.CoreV1().ConfigMaps(ns)
	want := ownerConfigMap(ns, app, env)
	cm, err := cms.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cm, err = cms.Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			cm, err = cms.Get(ctx, want.Name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("owner ConfigMap %s/%s: %w", ns, want.Name, err)
	}
	if cm.Labels[LabelManagedBy] != ManagedBy {
		return nil, fmt.Errorf("ConfigMap %s/%s exists and was not created by gantry (no %s=%s label); gantry leaves it alone: rename or delete it", ns, cm.Name, LabelManagedBy, ManagedBy)
	}
	return cm, nil
}

func ours(o metav1.Object) bool { return o.GetLabels()[LabelManagedBy] == ManagedBy }

// Instances implements rollout.Backend: the pods of app in env, of every
// revision, sorted by revision and name.
func (b *Backend) Instances(app, env string) []rollout.Instance {
	w := b.watchOf(b.namespaceOf(app, env))
	if w == nil {
		return nil
	}
	pods, err := w.pods.List(labels.SelectorFromSet(envLabels(app, env)))
	if err != nil {
		return nil
	}
	out := make([]rollout.Instance, 0, len(pods))
	for _, p := range pods {
		if in, ok := instanceOf(p, podPort(p)); ok {
			b.addUsage(&in, p.Namespace)
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(x, y rollout.Instance) int {
		if x.Revision != y.Revision {
			return x.Revision - y.Revision
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// podPort is the workload container's first port.
func podPort(p *corev1.Pod) int {
	for _, c := range p.Spec.Containers {
		if c.Name == ContainerName && len(c.Ports) > 0 {
			return int(c.Ports[0].ContainerPort)
		}
	}
	return 0
}

// checkDrift sets back a ReplicaSet whose replicas differ from what gantry
// last asked (its gantry.dev/replicas annotation), with a Warning event.
func (b *Backend) checkDrift(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok || !ours(rs) || rs.Spec.Replicas == nil || rs.DeletionTimestamp != nil || rs.Annotations[AnnotationAutoscaled] == "true" {
		return
	}
	want, err := strconv.Atoi(rs.Annotations[AnnotationReplicas])
	if err != nil || int(*rs.Spec.Replicas) == want {
		return
	}
	b.mu.Lock()
	released := b.released
	b.mu.Unlock()
	if released {
		return
	}
	app, env := rs.Labels[LabelApp], rs.Labels[LabelEnv]
	fact := rollout.DriftFact{Kind: "ReplicaSet", Namespace: rs.Namespace, Name: rs.Name, Field: "spec.replicas",
		Was: strconv.Itoa(int(*rs.Spec.Replicas)), Now: strconv.Itoa(want)}
	b.eventWith(app, env, rollout.Warning, rollout.ReasonDriftCorrected,
		fmt.Sprintf("ReplicaSet %s/%s (revision %s) was scaled to %d outside gantry; set back to %d", rs.Namespace, rs.Name, rs.Labels[LabelRevision], *rs.Spec.Replicas, want),
		&rollout.Details{Drift: []rollout.DriftFact{fact}})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.setReplicas(ctx, rs.Namespace, rs.Name, want); err != nil {
			b.eventWith(app, env, rollout.Warning, rollout.ReasonDriftCorrected, fmt.Sprintf("could not set back: %v", err),
				&rollout.Details{Drift: []rollout.DriftFact{fact}, Error: err.Error()})
		}
	}()
}

func (b *Backend) event(app, env string, typ rollout.EventType, reason rollout.Reason, msg string) {
	b.eventWith(app, env, typ, reason, msg, nil)
}

func (b *Backend) eventWith(app, env string, typ rollout.EventType, reason rollout.Reason, msg string, d *rollout.Details) {
	if b.opts.Event != nil {
		b.opts.Event(rollout.Event{Time: time.Now(), App: app, Env: env, Type: typ, Reason: reason, Message: msg, Actor: "gantry", Details: d})
	}
}

// Recover implements backend.Backend: in every watched namespace, the
// ReplicaSets of revisions lookup knows are adopted as they are (drift set
// back); those of revisions it does not know are scaled to zero.
func (b *Backend) Recover(ctx context.Context, lookup backend.RevisionLookup) error {
	b.mu.Lock()
	nss := make([]string, 0, len(b.watched))
	for ns := range b.watched {
		nss = append(nss, ns)
	}
	b.mu.Unlock()
	slices.Sort(nss)
	var errs []error
	for _, ns := range nss {
		list, err := b.c.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedBy})
		if err != nil {
			return fmt.Errorf("recover: list ReplicaSets in %q: %w", ns, err)
		}
		for i := range list.Items {
			errs = append(errs, b.recoverOne(ctx, &list.Items[i], lookup))
		}
	}
	return errors.Join(errs...)
}

func (b *Backend) recoverOne(ctx context.Context, rs *appsv1.ReplicaSet, lookup backend.RevisionLookup) error {
	app, env := rs.Labels[LabelApp], rs.Labels[LabelEnv]
	n, err := strconv.Atoi(rs.Labels[LabelRevision])
	if err != nil || app == "" || env == "" {
		return nil // not one of gantry's revisions: left alone
	}
	replicas := 0
	if rs.Spec.Replicas != nil {
		replicas = int(*rs.Spec.Replicas)
	}
	_, err = lookup(app, env, n)
	switch {
	case errors.Is(err, rollout.ErrNotFound):
		if replicas == 0 && rs.Annotations[AnnotationReplicas] == "0" {
			return nil
		}
		b.event(app, env, rollout.Warning, rollout.ReasonInstanceStopped,
			fmt.Sprintf("ReplicaSet %s/%s belongs to revision %d, which gantry does not know; scaled to 0", rs.Namespace, rs.Name, n))
		return b.setReplicas(ctx, rs.Namespace, rs.Name, 0)
	case err != nil:
		return fmt.Errorf("recover ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	b.mu.Lock()
	b.envNS[envKey{app, env}] = rs.Namespace
	b.mu.Unlock()
	if replicas > 0 {
		b.event(app, env, rollout.Normal, rollout.ReasonInstanceAdopted,
			fmt.Sprintf("adopted ReplicaSet %s/%s of revision %d with %d replicas", rs.Namespace, rs.Name, n, replicas))
	}
	b.checkDrift(rs)
	return nil
}

// Release implements backend.Backend: it stops watching and leaves every
// ReplicaSet as it is.
func (b *Backend) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return
	}
	b.released = true
	for _, w := range b.watched {
		close(w.stop)
	}
}

// Shutdown implements backend.Backend: every gantry ReplicaSet in the
// watched namespaces is scaled to zero, and it returns once their pods
// are gone (or with ctx's error). After Release it does nothing.
func (b *Backend) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if b.released {
		b.mu.Unlock()
		return nil
	}
	b.released, b.stopped = true, true
	nss := make([]string, 0, len(b.watched))
	for ns, w := range b.watched {
		nss = append(nss, ns)
		defer close(w.stop)
	}
	b.mu.Unlock()
	sel := metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedBy}
	for _, ns := range nss {
		list, err := b.c.Client.AppsV1().ReplicaSets(ns).List(ctx, sel)
		if err != nil {
			return fmt.Errorf("shutdown: list ReplicaSets in %q: %w", ns, err)
		}
		for _, rs := range list.Items {
			if rs.Spec.Replicas != nil && *rs.Spec.Replicas == 0 && rs.Annotations[AnnotationReplicas] == "0" {
				continue
			}
			if err := b.setReplicas(ctx, ns, rs.Name, 0); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
		}
	}
	for _, ns := range nss {
		for {
			pods, err := b.c.Client.CoreV1().Pods(ns).List(ctx, sel)
			if err != nil {
				return fmt.Errorf("shutdown: list pods in %q: %w", ns, err)
			}
			if len(pods.Items) == 0 {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("shutdown: %d pods in %q still stopping: %w", len(pods.Items), ns, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
