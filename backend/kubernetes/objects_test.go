package kubernetes

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func TestReplicaSet_fromSpec(t *testing.T) {
	grace, tol := 45, int64(30)
	rev := rollout.Revision{App: "gemini-api", Env: "production", Number: 7, Version: "v1.4.2", Spec: spec.AppSpec{
		Workload: spec.Workload{
			Image: "ghcr.io/acme/gemini-api:{{.Version}}", Port: 9000, Args: []string{"--listen", ":{{.Port}}"},
			Env: []spec.EnvVar{{Name: "LOG", Value: "{{.Env}}"}, {Name: "DB_PASSWORD", ValueFrom: &spec.ValueFrom{SecretKeyRef: &spec.SecretKeyRef{Name: "db", Key: "password"}}}},
		},
		Resources:                     spec.Resources{Limits: spec.ResourceList{Memory: "1Gi"}},
		LivenessProbe:                 &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/health"}},
		ReadinessProbe:                &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/ready"}, PeriodSeconds: 2},
		TerminationGracePeriodSeconds: &grace,
		Kubernetes: &spec.Kubernetes{ServiceAccountName: "api", NodeSelector: map[string]string{"pool": "general"},
			Tolerations: []spec.Toleration{{Key: "dedicated", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: &tol}},
			Annotations: map[string]string{"prometheus.io/scrape": "true"}},
	}}
	owner := ownerConfigMap("apps", "gemini-api", "production")
	owner.UID = "owner-uid"
	rs, err := replicaSet("apps", rev, 3, owner)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Name != "gemini-api-production-7" || rs.Namespace != "apps" || *rs.Spec.Replicas != 3 || rs.Annotations[AnnotationReplicas] != "3" {
		t.Errorf("ReplicaSet %s/%s replicas %d annotations %v", rs.Namespace, rs.Name, *rs.Spec.Replicas, rs.Annotations)
	}
	if len(rs.OwnerReferences) != 1 || rs.OwnerReferences[0].UID != "owner-uid" || rs.OwnerReferences[0].Kind != "ConfigMap" {
		t.Errorf("owner references %+v, want the owner ConfigMap", rs.OwnerReferences)
	}
	want := map[string]string{LabelApp: "gemini-api", LabelEnv: "production", LabelRevision: "7", LabelManagedBy: ManagedBy}
	for k, v := range want {
		if rs.Spec.Selector.MatchLabels[k] != v || rs.Spec.Template.Labels[k] != v || rs.Labels[k] != v {
			t.Errorf("label %s: selector %q, template %q, object %q; want %q", k, rs.Spec.Selector.MatchLabels[k], rs.Spec.Template.Labels[k], rs.Labels[k], v)
		}
	}
	pod := rs.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != "ghcr.io/acme/gemini-api:v1.4.2" || strings.Join(c.Args, " ") != "--listen :9000" || c.Ports[0].ContainerPort != 9000 {
		t.Errorf("container image %q args %q ports %+v", c.Image, c.Args, c.Ports)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if env["LOG"].Value != "production" || env["GANTRY_VERSION"].Value != "v1.4.2" || env["GANTRY_INSTANCE"].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("env %+v", c.Env)
	}
	if r := env["DB_PASSWORD"].ValueFrom; r == nil || r.SecretKeyRef.Name != "db" || r.SecretKeyRef.Key != "password" || env["DB_PASSWORD"].Value != "" {
		t.Errorf("DB_PASSWORD = %+v, want a secretKeyRef to db/password and no value", env["DB_PASSWORD"])
	}
	for name, want := range map[string]string{"requests memory": "256Mi", "requests cpu": "250m", "limits memory": "1Gi", "limits cpu": "500m"} {
		list := c.Resources.Requests
		if strings.HasPrefix(name, "limits") {
			list = c.Resources.Limits
		}
		if got := list[corev1.ResourceName(strings.Fields(name)[1])]; got.String() != want {
			t.Errorf("%s = %s, want %s", name, got.String(), want)
		}
	}
	if c.LivenessProbe.HTTPGet.Path != "/health" || c.LivenessProbe.HTTPGet.Port.IntValue() != 9000 ||
		c.ReadinessProbe.HTTPGet.Path != "/ready" || c.ReadinessProbe.PeriodSeconds != 2 {
		t.Errorf("probes %+v %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	if *pod.TerminationGracePeriodSeconds != 45 || pod.ServiceAccountName != "api" || pod.NodeSelector["pool"] != "general" ||
		len(pod.Tolerations) != 1 || *pod.Tolerations[0].TolerationSeconds != 30 {
		t.Errorf("pod extras: grace %d sa %q nodeSelector %v tolerations %+v", *pod.TerminationGracePeriodSeconds, pod.ServiceAccountName, pod.NodeSelector, pod.Tolerations)
	}
	if a := rs.Spec.Template.Annotations; a["prometheus.io/scrape"] != "true" || a[AnnotationVersion] != "v1.4.2" {
		t.Errorf("pod annotations %v", a)
	}
}

func TestReplicaSet_cannotStart(t *testing.T) {
	owner := ownerConfigMap("ns", "a", "e")
	for name, w := range map[string]spec.Workload{
		"no image":         {Command: "./server"},
		"secret by value":  {Image: "acme/a:1", Env: []spec.EnvVar{{Name: "P", ValueFrom: &spec.ValueFrom{ServerEnv: "P"}}}},
		"unrendered image": {Image: "acme/a:{{.Nope}}"},
	} {
		_, err := replicaSet("ns", rollout.Revision{App: "a", Env: "e", Number: 1, Spec: spec.AppSpec{Workload: w}}, 1, owner)
		if !errors.Is(err, rollout.ErrCannotStart) {
			t.Errorf("%s: %v, want an error wrapping ErrCannotStart", name, err)
		}
	}
}

func TestObjectName_longNamesStayUniqueAndShort(t *testing.T) {
	long := strings.Repeat("a", 63)
	x, y := ReplicaSetName(long, long, 1), ReplicaSetName(long, long, 2)
	if len(x) > 57 || len(y) > 57 || x == y {
		t.Errorf("names %q (%d) and %q (%d): want distinct, at most 57 characters", x, len(x), y, len(y))
	}
	if got := ReplicaSetName("api", "prod", 3); got != "api-prod-3" {
		t.Errorf("short name = %q, want api-prod-3", got)
	}
}

func TestInstanceOf(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "api-prod-3-x1", CreationTimestamp: metav1.NewTime(now),
				Labels:      map[string]string{LabelApp: "api", LabelEnv: "prod", LabelRevision: "3", LabelManagedBy: ManagedBy},
				Annotations: map[string]string{AnnotationVersion: "v3"}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.7", StartTime: &metav1.Time{Time: now},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(time.Second))}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName, Ready: true,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}}}},
		}
	}
	in, ok := instanceOf(base(), 8080)
	if !ok || in.ID != "api-prod-3-x1" || in.Revision != 3 || in.Version != "v3" || in.Addr != "10.244.0.7:8080" ||
		in.State != rollout.Running || !in.Ready || !in.ReadySince.Equal(now.Add(time.Second)) {
		t.Errorf("running ready pod = %+v", in)
	}

	oom := base()
	oom.Status.Conditions[0].Status = corev1.ConditionFalse
	oom.Status.ContainerStatuses[0].RestartCount = 4
	oom.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s"}}
	oom.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}
	in, _ = instanceOf(oom, 8080)
	if in.State != rollout.BackingOff || in.Ready || in.Restarts != 4 || in.LastExit != "OOMKilled (exit code 137)" || !strings.Contains(in.Health, "CrashLoopBackOff") {
		t.Errorf("crash-looping OOMKilled pod = %+v", in)
	}

	gone := base()
	gone.DeletionTimestamp = &metav1.Time{Time: now}
	if in, _ := instanceOf(gone, 8080); in.State != rollout.Terminating || in.Ready {
		t.Errorf("deleted pod = %+v, want Terminating and not ready", in)
	}
	pending := base()
	pending.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if in, _ := instanceOf(pending, 8080); in.State != rollout.Starting || in.Addr != "" || in.Ready {
		t.Errorf("pending pod = %+v, want Starting without an address", in)
	}
	foreign := base()
	delete(foreign.Labels, LabelManagedBy)
	if _, ok := instanceOf(foreign, 8080); ok {
		t.Error("a pod without gantry's label is an instance")
	}
}
