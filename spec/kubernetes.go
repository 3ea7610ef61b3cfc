package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Kubernetes is how an app runs on the kubernetes backend: where, with
// which pod extras, and what splits its traffic. It is set under
// spec.kubernetes and overridden field by field under
// environments[].kubernetes; the local backend ignores it. Every field is
// optional: an environment whose backend changes from local to kubernetes
// needs nothing else.
type Kubernetes struct {
	// Namespace holds the environment's objects. Empty: the namespace the
	// gantry server was started with (--kube-namespace, default "default").
	Namespace string `json:"namespace,omitempty"`
	// ServiceAccountName runs the pods as this ServiceAccount. Empty: the
	// namespace's default.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// NodeSelector restricts the nodes pods run on (label: value).
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations let pods run on nodes with matching taints.
	Tolerations []Toleration `json:"tolerations,omitempty"`
	// Annotations are added to every pod (never to gantry's own keys).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Router splits traffic between revisions. Nil: a plain Service over
	// every revision (replica-ratio weights).
	Router *KubernetesRouter `json:"router,omitempty"`
	// Autoscaling puts the stable revision under a HorizontalPodAutoscaler
	// between rollouts. Nil: the spec's replicas, always.
	Autoscaling *KubernetesAutoscaling `json:"autoscaling,omitempty"`
}

// Toleration is a Kubernetes pod toleration.
type Toleration struct {
	// Key is the taint key; empty with operator Exists matches every taint.
	Key string `json:"key,omitempty"`
	// Operator is Equal (the default) or Exists.
	Operator string `json:"operator,omitempty"`
	// Value is compared with the taint's value under Equal.
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute; empty matches all.
	Effect string `json:"effect,omitempty"`
	// TolerationSeconds bounds how long a NoExecute taint is tolerated; nil: forever.
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// KubernetesRouterType names what splits traffic on Kubernetes.
type KubernetesRouterType string

// The routers of the kubernetes backend.
const (
	// RouterService is one Service over every revision: traffic follows
	// the ready pods, so a weight is only as fine as the replica ratio.
	RouterService KubernetesRouterType = "service"
	// RouterGatewayAPI weights an HTTPRoute's backendRefs to one Service
	// per revision (Gateway API, gateway.networking.k8s.io/v1).
	RouterGatewayAPI KubernetesRouterType = "gatewayAPI"
	// RouterIngressNginx uses ingress-nginx canary annotations on a second
	// Ingress (canary-weight), with one Service per revision.
	RouterIngressNginx KubernetesRouterType = "ingressNginx"
)

// KubernetesRouter says what splits traffic on Kubernetes.
type KubernetesRouter struct {
	// Type is service (default), gatewayAPI or ingressNginx.
	Type KubernetesRouterType `json:"type,omitempty"`
	// Gateway is the Gateway the HTTPRoute attaches to; required for gatewayAPI.
	Gateway *GatewayRef `json:"gateway,omitempty"`
	// Hostnames the HTTPRoute or Ingress serves; empty: every host
	// (gatewayAPI only: an Ingress needs a host, the first is used).
	Hostnames []string `json:"hostnames,omitempty"`
	// IngressClassName is the Ingress class of ingressNginx. Default nginx.
	IngressClassName string `json:"ingressClassName,omitempty"`
	// Path the route matches, a prefix. Default /.
	Path string `json:"path,omitempty"`
}

// GatewayRef names a Gateway (and optionally one of its listeners).
type GatewayRef struct {
	Name string `json:"name"`
	// Namespace of the Gateway; empty: the environment's namespace.
	Namespace string `json:"namespace,omitempty"`
	// SectionName is the listener's name; empty: every listener.
	SectionName string `json:"sectionName,omitempty"`
}

// RouterType returns the router, RouterService when unset.
func (k *Kubernetes) RouterType() KubernetesRouterType {
	if k == nil || k.Router == nil || k.Router.Type == "" {
		return RouterService
	}
	return k.Router.Type
}

// merge returns k with every field o sets replacing k's.
func (k *Kubernetes) merge(o *Kubernetes) *Kubernetes {
	if o == nil {
		return k.clone()
	}
	out := k.clone()
	if out == nil {
		out = &Kubernetes{}
	}
	c := o.clone()
	if c.Namespace != "" {
		out.Namespace = c.Namespace
	}
	if c.ServiceAccountName != "" {
		out.ServiceAccountName = c.ServiceAccountName
	}
	if c.NodeSelector != nil {
		out.NodeSelector = c.NodeSelector
	}
	if c.Tolerations != nil {
		out.Tolerations = c.Tolerations
	}
	if c.Annotations != nil {
		out.Annotations = c.Annotations
	}
	if c.Router != nil {
		out.Router = c.Router
	}
	if c.Autoscaling != nil {
		out.Autoscaling = c.Autoscaling
	}
	return out
}

func (k *Kubernetes) clone() *Kubernetes {
	if k == nil {
		return nil
	}
	c := *k
	c.NodeSelector = maps.Clone(k.NodeSelector)
	c.Annotations = maps.Clone(k.Annotations)
	c.Tolerations = slices.Clone(k.Tolerations)
	for i := range c.Tolerations {
		c.Tolerations[i].TolerationSeconds = clonePtr(k.Tolerations[i].TolerationSeconds)
	}
	if k.Router != nil {
		r := *k.Router
		r.Hostnames = slices.Clone(k.Router.Hostnames)
		r.Gateway = clonePtr(k.Router.Gateway)
		c.Router = &r
	}
	c.Autoscaling = clonePtr(k.Autoscaling)
	return &c
}

// kubernetes checks spec.kubernetes or environments[].kubernetes.
func (v *validator) kubernetes(path string, k *Kubernetes) {
	if k == nil {
		return
	}
	if k.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(k.Namespace) {
			v.add(joinField(path, "namespace"), "%q is not a namespace name: %s", k.Namespace, msg)
		}
	}
	if k.ServiceAccountName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(k.ServiceAccountName) {
			v.add(joinField(path, "serviceAccountName"), "%q is not a ServiceAccount name: %s", k.ServiceAccountName, msg)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(k.NodeSelector)) {
		for _, msg := range validation.IsQualifiedName(key) {
			v.add(joinField(path, "nodeSelector"), "label key %q: %s", key, msg)
		}
		for _, msg := range validation.IsValidLabelValue(k.NodeSelector[key]) {
			v.add(joinField(path, "nodeSelector"), "label %s value %q: %s", key, k.NodeSelector[key], msg)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(k.Annotations)) {
		for _, msg := range validation.IsQualifiedName(key) {
			v.add(joinField(path, "annotations"), "annotation key %q: %s", key, msg)
		}
		if strings.HasPrefix(key, "gantry.dev/") {
			v.add(joinField(path, "annotations"), "annotation key %q is gantry's own; use another prefix", key)
		}
	}
	for i, t := range k.Tolerations {
		v.toleration(fmt.Sprintf("%s[%d]", joinField(path, "tolerations"), i), t)
	}
	v.kubernetesRouter(joinField(path, "router"), k.Router)
	v.autoscaling(joinField(path, "autoscaling"), k.Autoscaling)
}

func (v *validator) toleration(path string, t Toleration) {
	switch t.Operator {
	case "", "Equal":
		if t.Key == "" {
			v.add(joinField(path, "key"), "required with operator Equal; name the taint key, or use operator: Exists to match every taint")
		}
	case "Exists":
		if t.Value != "" {
			v.add(joinField(path, "value"), "must be empty with operator Exists; drop it or use operator: Equal")
		}
	default:
		v.add(joinField(path, "operator"), "%q is not an operator; use Equal or Exists", t.Operator)
	}
	switch t.Effect {
	case "", "NoSchedule", "PreferNoSchedule", "NoExecute":
	default:
		v.add(joinField(path, "effect"), "%q is not a taint effect; use NoSchedule, PreferNoSchedule or NoExecute (empty: all)", t.Effect)
	}
	if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
		v.add(joinField(path, "tolerationSeconds"), "only applies to effect NoExecute; set effect: NoExecute or drop it")
	}
}

func (v *validator) kubernetesRouter(path string, r *KubernetesRouter) {
	if r == nil {
		return
	}
	switch r.Type {
	case "", RouterService, RouterIngressNginx:
		if r.Gateway != nil {
			v.add(joinField(path, "gateway"), "only applies to type %s; drop it or set type: %s", RouterGatewayAPI, RouterGatewayAPI)
		}
	case RouterGatewayAPI:
		if r.Gateway == nil || r.Gateway.Name == "" {
			v.add(joinField(path, "gateway"), "required for type %s; name the Gateway the HTTPRoute attaches to, such as gateway: {name: public}", RouterGatewayAPI)
		}
	default:
		v.add(joinField(path, "type"), "%q is not a router; use %s (the default), %s or %s", r.Type, RouterService, RouterGatewayAPI, RouterIngressNginx)
	}
	if r.Type == RouterIngressNginx && len(r.Hostnames) == 0 {
		v.add(joinField(path, "hostnames"), "required for type %s; give the Ingress host, such as hostnames: [api.example.com]", RouterIngressNginx)
	}
	for i, h := range r.Hostnames {
		for _, msg := range validation.IsDNS1123Subdomain(strings.TrimPrefix(h, "*.")) {
			v.add(fmt.Sprintf("%s[%d]", joinField(path, "hostnames"), i), "%q is not a host name: %s", h, msg)
		}
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		v.add(joinField(path, "path"), "%q must start with /", r.Path)
	}
}

// image checks that the workload's image, with {{.Version}} filled, is an
// image reference (registry/repository:tag or @sha256:digest).
func (v *validator) image(path, image string) {
	if image == "" || checkTemplate(image) != nil {
		return
	}
	rendered, err := render("image", image, TemplateVars{Version: "v1", App: "app", Env: "env", Instance: "app-1", Port: DefaultPort, Revision: 1})
	if err != nil {
		return
	}
	if _, err := name.ParseReference(rendered); err != nil {
		v.add(path, "%q is not an image reference (%v); use registry/repository:tag or registry/repository@sha256:digest, such as ghcr.io/acme/api:{{.Version}}", image, err)
	}
}
