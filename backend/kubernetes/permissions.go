package kubernetes

// AutoscalingPermissions are what spec.kubernetes.autoscaling needs in an
// environment's namespace, checked when an environment first asks for a
// HorizontalPodAutoscaler: read it, create it for the stable revision,
// point it at the next one, delete it when autoscaling is turned off.
var AutoscalingPermissions = []Permission{
	{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verbs: []string{"get", "create", "update", "delete"}},
}

// MetricsPermissions are what reading CPU and memory per instance from
// the metrics API (metrics.k8s.io, served by metrics-server) needs: one
// list of the namespace's pod metrics per poll. Without them the
// instances' CPU and memory stay empty, said once.
var MetricsPermissions = []Permission{
	{Group: "metrics.k8s.io", Resource: "pods", Verbs: []string{"list"}},
}

// AllPermissions are every set of permissions the backend checks with
// SelfSubjectAccessReview; deploy/kubernetes/rbac.yaml grants them all
// (and the routers' own, router/kuberouter).
var AllPermissions = [][]Permission{BackendPermissions, AutoscalingPermissions, MetricsPermissions}
