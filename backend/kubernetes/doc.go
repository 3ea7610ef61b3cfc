// Package kubernetes is the backend that runs an environment's revisions
// on a Kubernetes cluster, through client-go: one ReplicaSet per revision
// (as Argo Rollouts does), labelled gantry.dev/app, gantry.dev/env and
// gantry.dev/revision and owned by one ConfigMap per app and environment,
// so that deleting that ConfigMap removes everything gantry made there.
// gantry's strategies scale the ReplicaSets; no Deployment is involved, so
// a rolling update follows the exact maxSurge/maxUnavailable sequence the
// engine plans (the same one kube-controller-manager's Deployment
// controller makes).
//
// Instances are pods, read from an informer's cache: readiness from the
// pod's Ready condition, restarts and the last termination reason
// (OOMKilled, Error, exit code) from the container status, CrashLoopBackOff
// as BackingOff. Logs come from the pod log API. Probes run in the
// kubelet; stopping is the kubelet's too (out of the Service's endpoints,
// SIGTERM, terminationGracePeriodSeconds), so Options.Drain is not called.
//
// Connect checks before anything changes that the API server answers, that
// the namespace exists and that every verb gantry needs is granted
// (SelfSubjectAccessReview), and reports what is missing with the Role
// rule to add. Objects gantry did not create (no gantry.dev/managed-by
// label) are never changed. After a restart Recover reads the cluster: the
// ReplicaSets of known revisions are adopted as they are, the others are
// scaled to zero. A ReplicaSet whose replicas someone changed by hand is
// reported (rollout.ReasonDriftCorrected) and set back.
package kubernetes
