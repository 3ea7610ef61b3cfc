package kuberouter

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

const rollingSpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: 3
  workload: {image: "ghcr.io/gantry-dev/gantry-sample:{{.Version}}", port: 8080}
  readinessProbe: {httpGet: {path: /ready}}
  terminationGracePeriodSeconds: 5
  progressDeadlineSeconds: 600
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  kubernetes:
    annotations: {kwok.x-k8s.io/status: custom KWOK_STATUS}
environments:
  - {name: production, backend: kubernetes, kubernetes: {namespace: NAMESPACE}}
`

// TestRolling_matchesDeployment: a rolling update on Kubernetes goes
// through the same replica counts, step by step, as a Deployment that
// kube-controller-manager rolls with the same maxSurge/maxUnavailable;
// then a crash-looping (OOMKilled) revision is rolled back, restoring
// images, replica counts and the Service's selector.
func TestRolling_matchesDeployment(t *testing.T) {
	g := startGantry(t, NewService)
	trace := traceReplicas(t, g.env, g.ns, kube.LabelApp+"=api")
	g.apply(replaceAnn(rollingSpec, ""))
	g.waitPhase(g.deploy("api", "production", "v1").ID, rollout.Succeeded)
	g.waitPhase(g.deploy("api", "production", "v2").ID, rollout.Succeeded)
	if got := g.replicas(); got["1"] != 0 || got["2"] != 3 {
		t.Errorf("after the update: replicas by revision %v, want 1:0 2:3", got)
	}
	ours := trace.String()

	deploy := deploymentTrace(t, g, 3, intstr.FromInt32(1), intstr.FromInt32(0))
	// gantry's trace starts with revision 1 coming up from nothing; the
	// update starts where it has 3.
	update := ours
	if i := strings.Index(ours, "3 → 3/"); i >= 0 {
		update = ours[i:]
	}
	if update != deploy {
		t.Errorf("gantry's rolling update went\n  %s\nthe Deployment's\n  %s", update, deploy)
	}
	t.Logf("replica sequence, gantry (revision 1/revision 2): %s; Deployment: %s", ours, deploy)
	sel := g.service(ServiceName("api", "production")).Spec.Selector
	if sel[kube.LabelRevision] != "" || sel[kube.LabelApp] != "api" {
		t.Errorf("Service selector during rolling updates = %v, want every revision of api", sel)
	}

	// Revision 3's pods crash with OOMKilled: rolled back to revision 2.
	g.apply(replaceAnn(rollingSpec, ", k8stestenv/kubelet: none"))
	r3 := g.deploy("api", "production", "v3")
	var pod corev1.Pod
	waitFor(t, "a pod of revision 3", func() (bool, string) {
		pods, err := g.env.Client.CoreV1().Pods(g.ns).List(context.Background(), metav1.ListOptions{LabelSelector: kube.LabelRevision + "=3"})
		if err != nil || len(pods.Items) == 0 {
			return false, fmt.Sprint(err)
		}
		pod = pods.Items[0]
		return true, ""
	})
	crashLoop(t, g, &pod, 3)
	g.waitPhase(r3.ID, rollout.RolledBack)
	waitFor(t, "revision 3 scaled away", func() (bool, string) {
		got := g.replicas()
		return got["2"] == 3 && got["3"] == 0, fmt.Sprint(got)
	})
	rs2, err := g.env.Client.AppsV1().ReplicaSets(g.ns).Get(context.Background(), kube.ReplicaSetName("api", "production", 2), metav1.GetOptions{})
	if err != nil || rs2.Spec.Template.Spec.Containers[0].Image != "ghcr.io/gantry-dev/gantry-sample:v2" {
		t.Errorf("after the rollback revision 2 runs %v (%v), want image ghcr.io/gantry-dev/gantry-sample:v2", rs2.Spec.Template.Spec.Containers, err)
	}
	evs, _ := g.store.ListEvents(context.Background(), rollout.EventFilter{App: "api"})
	found := false
	for _, e := range evs {
		found = found || e.Reason == rollout.ReasonCrashLoop
	}
	if !found {
		t.Errorf("no CrashLoop event among %d events", len(evs))
	}
}

func replaceAnn(s, ann string) string {
	return strings.ReplaceAll(s, "KWOK_STATUS", ann)
}

// crashLoop makes pod look as a container that was OOMKilled n times and
// now waits in CrashLoopBackOff, through the status subresource (kwok
// leaves pods annotated kwok.x-k8s.io/status=custom alone).
func crashLoop(t *testing.T, g *gantry, pod *corev1.Pod, n int32) {
	t.Helper()
	now := metav1.NewTime(time.Now())
	status := corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.244.200.1", StartTime: &now,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now}},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: kube.ContainerName, Image: pod.Spec.Containers[0].Image, RestartCount: n,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: now}},
		}},
	}
	patch, _ := json.Marshal(map[string]any{"status": status})
	if _, err := g.env.Client.CoreV1().Pods(g.ns).Patch(context.Background(), pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("patch the status of pod %s: %v", pod.Name, err)
	}
	waitFor(t, "the backend to report the crash loop", func() (bool, string) {
		for _, in := range g.backend.Instances("api", "production") {
			if in.ID == pod.Name {
				return in.State == rollout.BackingOff && in.LastExit == "OOMKilled (exit code 137)" && in.Restarts == int(n), fmt.Sprintf("%+v", in)
			}
		}
		return false, "no such instance"
	})
}

// deploymentTrace rolls a real Deployment from one image to another under
// kube-controller-manager and returns its replica sequence, "old/new".
func deploymentTrace(t *testing.T, g *gantry, n int32, ms, mu intstr.IntOrString) string {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "reference"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "reference", Namespace: g.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &ms, MaxUnavailable: &mu}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/gantry-dev/gantry-sample:v1"}}},
			},
		},
	}
	deps := g.env.Client.AppsV1().Deployments(g.ns)
	if _, err := deps.Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	done := func(gen int64) (bool, string) {
		cur, err := deps.Get(ctx, "reference", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := cur.Status
		return s.ObservedGeneration >= gen && s.UpdatedReplicas == n && s.AvailableReplicas == n && s.Replicas == n,
			fmt.Sprintf("%+v", s)
	}
	waitFor(t, "the Deployment ready", func() (bool, string) { return done(1) })
	trace := traceReplicas(t, g.env, g.ns, "app=reference")
	patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"ghcr.io/gantry-dev/gantry-sample:v2"}]}}}}`)
	if _, err := deps.Patch(ctx, "reference", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Deployment rolled", func() (bool, string) { return done(2) })
	waitFor(t, "the old ReplicaSet at 0", func() (bool, string) {
		s := trace.String()
		return strings.HasSuffix(s, " 0/"+strconv.Itoa(int(n))), s
	})
	return trace.String()
}
