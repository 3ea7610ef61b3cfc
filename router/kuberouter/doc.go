// Package kuberouter holds the routers of the kubernetes backend: each
// implements router.Router by writing Kubernetes objects, and the
// cluster's data plane (kube-proxy, an ingress controller, a Gateway
// implementation) carries the requests.
//
//   - Service: one Service over the environment's pods. Without weights
//     (a rolling update) it selects every revision; a revision with all
//     the traffic is pinned by adding gantry.dev/revision to the selector,
//     so a blue-green switch is one atomic selector change; a split
//     between revisions follows the ready-pod ratio (replica-ratio
//     canaries): Stats reports the share that ratio gives, which is the
//     limit of this router, and a ReasonReplicaRatio event says so.
//   - Gateway API (NewGateway): an HTTPRoute whose backendRefs weight one
//     Service per revision as the strategy asks; a rolling update goes
//     through the environment's Service.
//   - ingress-nginx (NewIngressNginx): a main Ingress and a canary
//     Ingress with nginx.ingress.kubernetes.io/canary-weight, two
//     revisions at a time.
//
// Open checks the namespace, gantry's permissions (SelfSubjectAccessReview)
// and the CRDs a router needs before it writes anything. A router new in
// this process (a restart, a new leader) leaves the traffic objects it
// finds as they are until the first SetTraffic.
//
// What router.Router's proxy-side methods mean here: Drain returns at
// once (the kubelet's termination grace period and the endpoints
// controller drain a pod); Addr and PreviewAddr are the in-cluster DNS
// names of the Services; SetMaintenance pins the Service to no pod, so
// an ingress in front answers 503; RevisionMetrics reports nothing (the
// router sees no requests: request metrics come from Prometheus), so the
// analysis judges pod health only and never promotes a canary step on
// absence of evidence; Close leaves every object in place.
package kuberouter
