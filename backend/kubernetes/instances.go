package kubernetes

import (
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gantry-dev/gantry/rollout"
)

// instanceOf describes a pod of a gantry ReplicaSet as an instance; ok is
// false for a pod without gantry's labels.
func instanceOf(p *corev1.Pod, port int) (in rollout.Instance, ok bool) {
	rev, err := strconv.Atoi(p.Labels[LabelRevision])
	if err != nil || p.Labels[LabelManagedBy] != ManagedBy {
		return rollout.Instance{}, false
	}
	in = rollout.Instance{
		ID: p.Name, App: p.Labels[LabelApp], Env: p.Labels[LabelEnv], Revision: rev,
		Version: p.Annotations[AnnotationVersion], StartedAt: p.CreationTimestamp.Time,
	}
	if p.Status.PodIP != "" {
		in.Addr = net.JoinHostPort(p.Status.PodIP, strconv.Itoa(port))
	}
	if p.Status.StartTime != nil {
		in.StartedAt = p.Status.StartTime.Time
	}
	c := container(p)
	if c != nil {
		in.Restarts = int(c.RestartCount)
		if c.State.Running != nil && !c.State.Running.StartedAt.IsZero() {
			in.StartedAt = c.State.Running.StartedAt.Time
		}
		switch {
		case c.State.Terminated != nil:
			in.LastExit = exitText(c.State.Terminated)
		case c.LastTerminationState.Terminated != nil:
			in.LastExit = exitText(c.LastTerminationState.Terminated)
		}
	}
	ready, since := podReady(p)
	switch {
	case p.DeletionTimestamp != nil:
		in.State = rollout.Terminating
	case c != nil && c.State.Waiting != nil && c.State.Waiting.Reason == "CrashLoopBackOff":
		in.State = rollout.BackingOff
		in.Health = "CrashLoopBackOff: " + c.State.Waiting.Message
	case p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded:
		in.State = rollout.BackingOff
		if in.LastExit == "" {
			in.LastExit = fmt.Sprintf("pod %s: %s %s", p.Status.Phase, p.Status.Reason, p.Status.Message)
		}
	case p.Status.Phase == corev1.PodRunning:
		in.State = rollout.Running
	default:
		in.State = rollout.Starting
	}
	if ready && in.State == rollout.Running {
		in.Ready, in.ReadySince = true, since
		if in.ReadySince.Before(in.StartedAt) {
			in.ReadySince = in.StartedAt
		}
	}
	return in, true
}

// container returns the status of the workload's container, nil before
// the kubelet reports one.
func container(p *corev1.Pod) *corev1.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == ContainerName {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// podReady reports the pod's Ready condition and since when it holds.
func podReady(p *corev1.Pod) (bool, time.Time) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue, c.LastTransitionTime.Time
		}
	}
	return false, time.Time{}
}

// exitText says why a container stopped: "OOMKilled (exit code 137)".
func exitText(t *corev1.ContainerStateTerminated) string {
	reason := t.Reason
	if reason == "" {
		reason = "exited"
	}
	s := fmt.Sprintf("%s (exit code %d)", reason, t.ExitCode)
	if t.Signal != 0 {
		s += fmt.Sprintf(", signal %d", t.Signal)
	}
	return s
}
