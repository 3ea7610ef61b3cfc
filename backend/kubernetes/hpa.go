package kubernetes

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// The annotations of autoscaling.
const (
	// AnnotationAutoscaled marks the ReplicaSet whose replicas the
	// environment's HorizontalPodAutoscaler sets (value "true"): gantry
	// neither scales it nor sets back what the autoscaler changed.
	AnnotationAutoscaled = "gantry.dev/autoscaled"
	// AnnotationRolloutReplicas, on the owner ConfigMap, holds the replica
	// count a rollout took over from the autoscaler, so that a restarted
	// gantry goes on at the same count.
	AnnotationRolloutReplicas = "gantry.dev/rollout-replicas"
)

// HPAName is the name of the HorizontalPodAutoscaler of app in env.
func HPAName(app, env string) string { return objectName(63, app, env) }

var _ rollout.Autoscaler = (*Backend)(nil)

// Autoscale implements rollout.Autoscaler: rev's ReplicaSet gets the
// HorizontalPodAutoscaler its spec.kubernetes.autoscaling asks for (created,
// or moved from the last stable revision), its replicas brought within
// the autoscaler's bounds. Without autoscaling in the spec, an autoscaler
// gantry made earlier is deleted and ok is false.
func (b *Backend) Autoscale(ctx context.Context, rev rollout.Revision) (int, bool, error) {
	ns := b.revisionNamespace(rev)
	var a *spec.KubernetesAutoscaling
	if k := rev.Spec.Kubernetes; k != nil {
		a = k.Autoscaling
	}
	if a == nil {
		return 0, false, b.stopAutoscaling(ctx, ns, rev.App, rev.Env)
	}
	if err := b.c.Check(ctx, ns, AutoscalingPermissions); err != nil {
		return 0, false, fmt.Errorf("spec.kubernetes.autoscaling: %w", err)
	}
	w := b.watchOf(ns)
	if w == nil {
		return 0, false, nil // not scaled yet: the spec's count first
	}
	rs, err := w.rss.ReplicaSets(ns).Get(ReplicaSetName(rev.App, rev.Env, rev.Number))
	if apierrors.IsNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !ours(rs) {
		return 0, false, nil // Scale reports it
	}
	n := max(a.Min(), min(a.Max(), int(ptrOr(rs.Spec.Replicas))))
	b.mu.Lock()
	handed := b.scaled[envKey{rev.App, rev.Env}]
	b.mu.Unlock()
	if !handed {
		// Release the others first, so that drift correction covers them again.
		if err := b.releaseAutoscaled(ctx, ns, rev.App, rev.Env, rs.Name); err != nil {
			return 0, false, err
		}
	}
	if rs.Annotations[AnnotationAutoscaled] != "true" || int(ptrOr(rs.Spec.Replicas)) != n {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"true",%q:null}},"spec":{"replicas":%d}}`, AnnotationAutoscaled, AnnotationReplicas, n)
		if _, err := b.c.Client.AppsV1().ReplicaSets(ns).Patch(ctx, rs.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return 0, false, fmt.Errorf("hand ReplicaSet %s/%s to its autoscaler: %w", ns, rs.Name, err)
		}
	}
	owner, err := b.owner(ctx, ns, rev.App, rev.Env)
	if err != nil {
		return 0, false, err
	}
	changed, err := b.applyHPA(ctx, hpa(ns, rev, rs.Name, *a, owner))
	if err != nil {
		return 0, false, err
	}
	if changed {
		b.event(rev.App, rev.Env, rollout.Normal, rollout.ReasonScaled,
			fmt.Sprintf("HorizontalPodAutoscaler %s/%s scales revision %d (ReplicaSet %s) between rollouts: %s, from %d replicas", ns, HPAName(rev.App, rev.Env), rev.Number, rs.Name, a, n))
	}
	if _, held := owner.Annotations[AnnotationRolloutReplicas]; held {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null}}}`, AnnotationRolloutReplicas)
		if _, err := b.c.Client.CoreV1().ConfigMaps(ns).Patch(ctx, owner.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return 0, false, fmt.Errorf("owner ConfigMap %s/%s: %w", ns, owner.Name, err)
		}
	}
	b.mu.Lock()
	delete(b.held, envKey{rev.App, rev.Env})
	b.scaled[envKey{rev.App, rev.Env}] = true
	b.mu.Unlock()
	return n, true, nil
}

// HoldScale implements rollout.Autoscaler: the count the autoscaled
// ReplicaSet has is recorded on the owner ConfigMap, the autoscaler is
// deleted and the ReplicaSet is gantry's to scale again. Later calls (and
// those of a restarted gantry) return the recorded count.
func (b *Backend) HoldScale(ctx context.Context, app, env string) (int, bool, error) {
	key := envKey{app, env}
	b.mu.Lock()
	h, done := b.held[key]
	b.mu.Unlock()
	if done {
		return h.replicas, h.ok, nil
	}
	ns := b.namespaceOf(app, env)
	n, ok, err := b.recordedHold(ctx, ns, app, env)
	if err != nil {
		return 0, false, err
	}
	if !ok {
		b.mu.Lock()
		b.held[key] = hold{}
		b.mu.Unlock()
		return 0, false, nil
	}
	// Detach, even when the count was recorded before a restart.
	if err := b.deleteHPA(ctx, ns, app, env); err != nil {
		return 0, false, err
	}
	if err := b.releaseAutoscaled(ctx, ns, app, env, ""); err != nil {
		return 0, false, err
	}
	b.mu.Lock()
	b.held[key] = hold{replicas: n, ok: true}
	b.mu.Unlock()
	b.event(app, env, rollout.Normal, rollout.ReasonScaled,
		fmt.Sprintf("the rollout takes the replica count from the HorizontalPodAutoscaler %s/%s at %d replicas; it moves to the new stable revision at the end", ns, HPAName(app, env), n))
	return n, true, nil
}

// hold is what HoldScale found for an environment.
type hold struct {
	replicas int
	ok       bool
}

// recordedHold returns the count recorded on the owner ConfigMap, else
// records the autoscaled ReplicaSet's count; ok is false when there is
// neither (no autoscaler).
func (b *Backend) recordedHold(ctx context.Context, ns, app, env string) (int, bool, error) {
	cms := b.c.Client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, OwnerName(app, env), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("owner ConfigMap %s/%s: %w", ns, OwnerName(app, env), err)
	}
	if v, ok := cm.Annotations[AnnotationRolloutReplicas]; ok {
		n, err := strconv.Atoi(v)
		if err == nil && n >= 0 {
			return n, true, nil
		}
	}
	rs := b.autoscaledReplicaSet(ns, app, env)
	if rs == nil {
		return 0, false, nil
	}
	n := int(ptrOr(rs.Spec.Replicas))
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationRolloutReplicas, strconv.Itoa(n))
	if _, err := cms.Patch(ctx, cm.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return 0, false, fmt.Errorf("record the rollout's replica count on ConfigMap %s/%s: %w", ns, cm.Name, err)
	}
	return n, true, nil
}

// autoscaledReplicaSet is the ReplicaSet of app in env an autoscaler
// scales, nil when none.
func (b *Backend) autoscaledReplicaSet(ns, app, env string) *appsv1.ReplicaSet {
	w := b.watchOf(ns)
	if w == nil {
		return nil
	}
	list, _ := w.rss.ReplicaSets(ns).List(labels.SelectorFromSet(envLabels(app, env)))
	for _, rs := range list {
		if rs.Annotations[AnnotationAutoscaled] == "true" {
			return rs
		}
	}
	return nil
}

// releaseAutoscaled gives every autoscaled ReplicaSet of app in env but
// keep back to gantry at the count it has. It reads the API server, not
// the informer, which may not have seen this server's own hand-over yet.
func (b *Backend) releaseAutoscaled(ctx context.Context, ns, app, env, keep string) error {
	list, err := b.c.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(envLabels(app, env)).String()})
	if err != nil {
		return fmt.Errorf("list ReplicaSets in %q: %w", ns, err)
	}
	for i := range list.Items {
		rs := &list.Items[i]
		if rs.Name == keep || rs.Annotations[AnnotationAutoscaled] == "" {
			continue
		}
		n := ptrOr(rs.Spec.Replicas)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:null,%q:%q}}}`, AnnotationAutoscaled, AnnotationReplicas, strconv.Itoa(int(n)))
		if _, err := b.c.Client.AppsV1().ReplicaSets(ns).Patch(ctx, rs.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("take ReplicaSet %s/%s back from its autoscaler: %w", ns, rs.Name, err)
		}
	}
	return nil
}

// stopAutoscaling undoes what autoscaling made for app in env, if
// anything: no permission is needed when there is nothing.
func (b *Backend) stopAutoscaling(ctx context.Context, ns, app, env string) error {
	// The informer may not have seen this server's own hand-over yet.
	b.mu.Lock()
	scaled := b.scaled[envKey{app, env}]
	b.mu.Unlock()
	if !scaled && b.autoscaledReplicaSet(ns, app, env) == nil {
		return nil
	}
	if err := b.deleteHPA(ctx, ns, app, env); err != nil {
		return err
	}
	if err := b.releaseAutoscaled(ctx, ns, app, env, ""); err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.scaled, envKey{app, env})
	b.mu.Unlock()
	return nil
}

// hpa is the autoscaler of rev's ReplicaSet rsName, owned with the rest.
func hpa(ns string, rev rollout.Revision, rsName string, a spec.KubernetesAutoscaling, owner *corev1.ConfigMap) *autoscalingv2.HorizontalPodAutoscaler {
	minReplicas, target := int32(a.Min()), int32(a.TargetCPU())
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{
			Name: HPAName(rev.App, rev.Env), Namespace: ns, Labels: revisionLabels(rev.App, rev.Env, rev.Number),
			OwnerReferences: []metav1.OwnerReference{ownerRef(owner)},
		},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rsName},
			MinReplicas:    &minReplicas,
			MaxReplicas:    int32(a.Max()),
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
				},
			}},
		},
	}
}

// applyHPA creates want or updates the existing autoscaler to it, and says
// whether it changed anything; one gantry did not create is left alone,
// with an error.
func (b *Backend) applyHPA(ctx context.Context, want *autoscalingv2.HorizontalPodAutoscaler) (bool, error) {
	hpas := b.c.Client.AutoscalingV2().HorizontalPodAutoscalers(want.Namespace)
	cur, err := hpas.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := hpas.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return false, fmt.Errorf("create HorizontalPodAutoscaler %s/%s: %w", want.Namespace, want.Name, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read HorizontalPodAutoscaler %s/%s: %w", want.Namespace, want.Name, err)
	case !ours(cur):
		return false, fmt.Errorf("HorizontalPodAutoscaler %s/%s exists and was not created by gantry (no %s=%s label); gantry leaves it alone: delete it to let gantry autoscale, or drop spec.kubernetes.autoscaling", want.Namespace, want.Name, LabelManagedBy, ManagedBy)
	}
	if equality.Semantic.DeepEqual(cur.Spec, want.Spec) && equality.Semantic.DeepEqual(cur.Labels, want.Labels) {
		return false, nil
	}
	cur.Spec, cur.Labels = want.Spec, want.Labels
	if _, err := hpas.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("update HorizontalPodAutoscaler %s/%s: %w", want.Namespace, want.Name, err)
	}
	return true, nil
}

// deleteHPA deletes the autoscaler of app in env when gantry created it.
func (b *Backend) deleteHPA(ctx context.Context, ns, app, env string) error {
	if err := b.c.Check(ctx, ns, AutoscalingPermissions); err != nil {
		return fmt.Errorf("take the replica count from the HorizontalPodAutoscaler: %w", err)
	}
	hpas := b.c.Client.AutoscalingV2().HorizontalPodAutoscalers(ns)
	name := HPAName(app, env)
	cur, err := hpas.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read HorizontalPodAutoscaler %s/%s: %w", ns, name, err)
	}
	if !ours(cur) {
		return nil
	}
	uid := cur.UID
	if err := hpas.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete HorizontalPodAutoscaler %s/%s: %w", ns, name, err)
	}
	return nil
}

func ptrOr(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
