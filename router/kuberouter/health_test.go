package kuberouter

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// TestServesResource: the Gateway API check finds HTTPRoutes on the test
// control plane (the standard CRDs are installed) and names a resource
// whose CRD is not installed (TCPRoute is in the experimental channel).
func TestServesResource(t *testing.T) {
	g := startGantry(t, NewGateway)
	if err := servesResource(g.cluster, "gateway.networking.k8s.io/v1", "httproutes"); err != nil {
		t.Errorf("HTTPRoutes: %v, want served", err)
	}
	err := servesResource(g.cluster, "gateway.networking.k8s.io/v1alpha2", "tcproutes")
	if err == nil || !strings.Contains(err.Error(), "tcproutes") || !strings.Contains(err.Error(), "CRDs installed") {
		t.Errorf("TCPRoutes: %v, want an error naming them and the missing CRDs", err)
	}
}

// TestCanary_serviceUnhealthy: a canary through the Service router is
// told as a ReplicaRatio event (the share the pods give); a canary pod
// that was ready and loses readiness (its status patched, as a kubelet
// would) makes the analysis roll back, and the Service is pinned to the
// stable revision again.
func TestCanary_serviceUnhealthy(t *testing.T) {
	g := startGantry(t, NewService)
	g.apply(strings.ReplaceAll(canarySpec, "router: ROUTER", "annotations: {}"))
	g.waitPhase(g.deploy("api", "production", "v1").ID, rollout.Succeeded)
	// Revision 2's pods get no kubelet: the test reports their status.
	g.apply(strings.ReplaceAll(canarySpec, "router: ROUTER", "annotations: {kwok.x-k8s.io/status: custom, k8stestenv/kubelet: none}"))
	r2 := g.deploy("api", "production", "v2")
	pod := waitPod(t, g, "2")
	setReady(t, g, pod, true)
	g.waitPausedAt(r2.ID, 1)
	waitFor(t, "a ReplicaRatio event", func() (bool, string) {
		return g.events.has(ReasonReplicaRatio), "none yet"
	})
	if msg := g.events.message(ReasonReplicaRatio); !strings.Contains(msg, "asked revision 1 75%, revision 2 25%") || !strings.Contains(msg, "the pods give revision 1 80%, revision 2 20%") {
		t.Errorf("ReplicaRatio event %q; want the 75/25 asked and the 80/20 the 4+1 ready pods give", msg)
	}

	setReady(t, g, pod, false)
	r := g.waitPhase(r2.ID, rollout.RolledBack)
	if !strings.Contains(r.Message, "unhealthy") {
		t.Errorf("rolled back with %q, want the unhealthy canary named", r.Message)
	}
	waitFor(t, "the Service pinned to revision 1", func() (bool, string) {
		sel := g.service(ServiceName("api", "production")).Spec.Selector
		return sel[kube.LabelRevision] == "1", fmt.Sprint(sel)
	})
}

// waitPod returns the first pod of revision rev.
func waitPod(t *testing.T, g *gantry, rev string) *corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	waitFor(t, "a pod of revision "+rev, func() (bool, string) {
		pods, err := g.env.Client.CoreV1().Pods(g.ns).List(context.Background(), metav1.ListOptions{LabelSelector: kube.LabelRevision + "=" + rev})
		if err != nil || len(pods.Items) == 0 {
			return false, fmt.Sprint(err)
		}
		pod = pods.Items[0]
		return true, ""
	})
	return &pod
}

// setReady reports pod Running with its Ready condition, as a kubelet
// would, and waits for the backend to see it.
func setReady(t *testing.T, g *gantry, pod *corev1.Pod, ready bool) {
	t.Helper()
	now := metav1.NewTime(time.Now())
	cond := corev1.ConditionFalse
	if ready {
		cond = corev1.ConditionTrue
	}
	status := corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.244.201.1", StartTime: &now,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: cond, LastTransitionTime: now}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: kube.ContainerName, Image: pod.Spec.Containers[0].Image, Ready: ready,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}},
	}
	patch, _ := json.Marshal(map[string]any{"status": status})
	if _, err := g.env.Client.CoreV1().Pods(g.ns).Patch(context.Background(), pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("patch the status of pod %s: %v", pod.Name, err)
	}
	waitFor(t, fmt.Sprintf("the backend to see pod %s ready=%v", pod.Name, ready), func() (bool, string) {
		for _, in := range g.backend.Instances("api", "production") {
			if in.ID == pod.Name {
				return in.Ready == ready && in.State == rollout.Running, fmt.Sprintf("%+v", in)
			}
		}
		return false, "no such instance"
	})
}
