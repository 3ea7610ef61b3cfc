package kubernetes

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// autoscaledRevision is a revision whose pods kwok runs by itself, under
// the plan's autoscaling (3 to 10 replicas at 70% CPU) unless a is nil.
func autoscaledRevision(n int, a *spec.KubernetesAutoscaling) rollout.Revision {
	return rollout.Revision{App: "api", Env: "prod", Number: n, Version: "v" + string(rune('0'+n)),
		Spec: spec.AppSpec{Workload: spec.Workload{Image: "ghcr.io/acme/api:{{.Version}}", Port: 8080},
			Kubernetes: &spec.Kubernetes{Autoscaling: a}}}
}

// TestBackend_Autoscale runs the plan's HorizontalPodAutoscaler through a
// rollout on the test control plane, as gantry's Role: created for the
// stable revision, its count taken back (and recorded, for a restarted
// gantry) when a rollout starts, moved to the new stable revision at the
// end, deleted when the spec drops autoscaling. The autoscaler's scaling
// is kube-controller-manager's; the test checks the objects.
func TestBackend_Autoscale(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-hpa")
	c, err := Connect(context.Background(), Config{REST: env.AsGantry(t, ns), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t, c, Options{})
	ctx := context.Background()
	plan := &spec.KubernetesAutoscaling{}
	rev1, rev2 := autoscaledRevision(1, plan), autoscaledRevision(2, plan)

	if err := b.Scale(ctx, rev1, 3); err != nil {
		t.Fatal(err)
	}
	if n := autoscale(t, b, rev1); n != 3 {
		t.Errorf("Autoscale(revision 1) = %d, want 3 (its count, within 3-10)", n)
	}
	checkHPA(t, env, ns, ReplicaSetName("api", "prod", 1))
	rs1 := getRS(t, env, ns, 1)
	if rs1.Annotations[AnnotationAutoscaled] != "true" {
		t.Errorf("revision 1's ReplicaSet annotations %v, want %s", rs1.Annotations, AnnotationAutoscaled)
	}

	// The autoscaler scales it to 7 (through the scale subresource, as
	// kube-controller-manager does); gantry follows instead of fighting.
	if _, err := env.Client.AppsV1().ReplicaSets(ns).UpdateScale(ctx, rs1.Name, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: rs1.Name, Namespace: ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 7},
	}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the informer sees 7 replicas", func() bool {
		rs, err := b.watchOf(ns).rss.ReplicaSets(ns).Get(rs1.Name)
		return err == nil && ptrOr(rs.Spec.Replicas) == 7
	})
	if n := autoscale(t, b, rev1); n != 7 {
		t.Errorf("Autoscale after the autoscaler's 7 = %d, want 7", n)
	}
	if err := b.Scale(ctx, rev1, 7); err != nil {
		t.Fatal(err)
	}
	if got := getRS(t, env, ns, 1); ptrOr(got.Spec.Replicas) != 7 {
		t.Errorf("revision 1 has %d replicas after steady Scale; want the autoscaler's 7", ptrOr(got.Spec.Replicas))
	}

	// A rollout starts: it takes the count (7) back from the autoscaler.
	if n, ok, err := b.HoldScale(ctx, "api", "prod"); err != nil || !ok || n != 7 {
		t.Fatalf("HoldScale = %d, %v, %v; want 7 replicas", n, ok, err)
	}
	if _, err := env.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, HPAName("api", "prod"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the HorizontalPodAutoscaler is still there during the rollout: %v", err)
	}
	if got := getRS(t, env, ns, 1); got.Annotations[AnnotationAutoscaled] != "" || got.Annotations[AnnotationReplicas] != "7" {
		t.Errorf("revision 1's ReplicaSet annotations during the rollout %v; want gantry's 7 and no autoscaler", got.Annotations)
	}
	// A restarted gantry goes on at the same count, from the owner ConfigMap.
	restarted := newTestBackend(t, c, Options{})
	if n, ok, err := restarted.HoldScale(ctx, "api", "prod"); err != nil || !ok || n != 7 {
		t.Errorf("HoldScale after a restart = %d, %v, %v; want the recorded 7", n, ok, err)
	}
	if err := b.Scale(ctx, rev2, 7); err != nil {
		t.Fatal(err)
	}
	if err := b.Scale(ctx, rev1, 0); err != nil {
		t.Fatal(err)
	}

	// The rollout ends: the autoscaler moves to revision 2 at 7.
	if n := autoscale(t, b, rev2); n != 7 {
		t.Errorf("Autoscale(revision 2) = %d, want the rollout's 7", n)
	}
	checkHPA(t, env, ns, ReplicaSetName("api", "prod", 2))
	cm, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, OwnerName("api", "prod"), metav1.GetOptions{})
	if err != nil || cm.Annotations[AnnotationRolloutReplicas] != "" {
		t.Errorf("owner ConfigMap annotations %v (%v); the rollout's record should be gone", cm.Annotations, err)
	}
	if n, ok, _ := b.HoldScale(ctx, "api", "prod"); !ok || n != 7 {
		t.Errorf("the next rollout's HoldScale = %d, %v; want 7", n, ok)
	}
	if n := autoscale(t, b, rev2); n != 7 {
		t.Errorf("Autoscale(revision 2) again = %d, want 7", n)
	}

	// The spec drops autoscaling: the autoscaler goes, the spec's count applies.
	if _, ok, err := b.Autoscale(ctx, autoscaledRevision(2, nil)); ok || err != nil {
		t.Errorf("Autoscale without autoscaling = %v, %v; want not autoscaled", ok, err)
	}
	if _, err := env.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, HPAName("api", "prod"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the HorizontalPodAutoscaler outlived spec.kubernetes.autoscaling: %v", err)
	}
}

// TestBackend_AutoscaleForbidden: a Role without the autoscaling rule is
// an error naming it, before anything changes.
func TestBackend_AutoscaleForbidden(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-hpa-forbidden")
	cfg := env.AsGantry(t, ns)
	ctx := context.Background()
	role, err := env.Client.RbacV1().Roles(ns).Get(ctx, "gantry", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range role.Rules {
		if len(r.APIGroups) == 1 && r.APIGroups[0] == "autoscaling" {
			role.Rules = append(role.Rules[:i], role.Rules[i+1:]...)
			break
		}
	}
	if _, err := env.Client.RbacV1().Roles(ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(ctx, Config{REST: cfg, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t, c, Options{})
	rev := autoscaledRevision(1, &spec.KubernetesAutoscaling{})
	if err := b.Scale(ctx, rev, 3); err != nil {
		t.Fatal(err)
	}
	_, _, err = b.Autoscale(ctx, rev)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("Autoscale without the autoscaling rule: %v, want %v", err, ErrForbidden)
	}
	t.Log(err)
	if got := getRS(t, env, ns, 1); got.Annotations[AnnotationAutoscaled] != "" {
		t.Errorf("the ReplicaSet was handed to an autoscaler that could not be made: %v", got.Annotations)
	}
}

// autoscale calls Autoscale until the backend's informer has rev's
// ReplicaSet, and returns the count.
func autoscale(t *testing.T, b *Backend, rev rollout.Revision) int {
	t.Helper()
	var n int
	waitFor(t, "Autoscale takes revision", func() bool {
		var ok bool
		var err error
		n, ok, err = b.Autoscale(context.Background(), rev)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	return n
}

func checkHPA(t *testing.T, env *k8stestenv.Env, ns, target string) {
	t.Helper()
	h, err := env.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(context.Background(), HPAName("api", "prod"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := h.Spec.ScaleTargetRef
	if ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" || ref.Name != target {
		t.Errorf("HorizontalPodAutoscaler targets %+v, want ReplicaSet %s", ref, target)
	}
	if ptrOr(h.Spec.MinReplicas) != 3 || h.Spec.MaxReplicas != 10 || len(h.Spec.Metrics) != 1 ||
		h.Spec.Metrics[0].Resource == nil || h.Spec.Metrics[0].Resource.Name != "cpu" ||
		ptrOr(h.Spec.Metrics[0].Resource.Target.AverageUtilization) != 70 {
		t.Errorf("HorizontalPodAutoscaler spec %+v, want 3-10 replicas at 70%% CPU", h.Spec)
	}
	if !ours(h) || len(h.OwnerReferences) != 1 || h.OwnerReferences[0].Name != OwnerName("api", "prod") {
		t.Errorf("HorizontalPodAutoscaler labels %v owners %v, want gantry's, owned by its ConfigMap", h.Labels, h.OwnerReferences)
	}
}

func getRS(t *testing.T, env *k8stestenv.Env, ns string, rev int) *appsv1.ReplicaSet {
	t.Helper()
	rs, err := env.Client.AppsV1().ReplicaSets(ns).Get(context.Background(), ReplicaSetName("api", "prod", rev), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// waitFor polls cond until it holds, for at most timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
