package objectroutertest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
)

// DataPlane is what carries an environment's requests in the cluster,
// reading the objects a router writes.
type DataPlane int

const (
	// KubeProxy: clients reach the environment's Service (Router.Addr);
	// kube-proxy spreads connections evenly over its ready endpoints.
	KubeProxy DataPlane = iota
	// GatewayAPI: a Gateway implementation routes the requests for a
	// hostname by the HTTPRoutes attached to the Gateway.
	GatewayAPI
	// IngressNginx: ingress-nginx routes the requests for a hostname by
	// the Ingresses of its class, canary Ingresses by their annotations.
	IngressNginx
)

func (d DataPlane) String() string {
	switch d {
	case KubeProxy:
		return "kube-proxy"
	case GatewayAPI:
		return "Gateway API"
	case IngressNginx:
		return "ingress-nginx"
	}
	return "DataPlane(" + strconv.Itoa(int(d)) + ")"
}

// Entry is where a request enters the data plane.
type Entry struct {
	DataPlane DataPlane
	// Service is the Service clients reach (KubeProxy).
	Service string
	// Host is the request's Host (GatewayAPI, IngressNginx).
	Host string
	// Gateway and GatewayNamespace name the Gateway the HTTPRoute must be
	// attached to (GatewayAPI); an empty namespace is the route's own.
	Gateway, GatewayNamespace string
	// IngressClass is the ingress controller's class (IngressNginx).
	IngressClass string
}

// Objects is what a data plane reads in one namespace at one moment.
type Objects struct {
	Namespace string
	Services  map[string]*corev1.Service
	Routes    map[string]*gatewayv1.HTTPRoute
	Ingresses map[string]*networkingv1.Ingress
	Pods      []corev1.Pod
}

// Split is the share in percent of new requests each revision's pods
// serve; revision 0 holds the requests no pod serves (a backend without
// ready endpoints or that does not exist: the data plane answers 5xx).
type Split map[int]float64

func (s Split) String() string {
	if len(s) == 0 {
		return "nothing"
	}
	var parts []string
	for _, rev := range slices.Sorted(maps.Keys(s)) {
		name := "revision " + strconv.Itoa(rev)
		if rev == 0 {
			name = "no pod"
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", name, s[rev]))
	}
	return strings.Join(parts, ", ")
}

// near says whether s and o give each revision the same share, within
// 0.5 percentage points.
func (s Split) near(o Split) bool {
	for _, rev := range slices.Concat(slices.Collect(maps.Keys(s)), slices.Collect(maps.Keys(o))) {
		if d := s[rev] - o[rev]; d > 0.5 || d < -0.5 {
			return false
		}
	}
	return true
}

// add puts share percent of requests through backend split b.
func (s Split) add(b Split, share float64) {
	for rev, v := range b {
		if x := s[rev] + v*share/100; x > 0 {
			s[rev] = x
		}
	}
}

// Split computes the share each revision gets of the requests entering at e.
func (o Objects) Split(e Entry) (Split, error) {
	switch e.DataPlane {
	case KubeProxy:
		return o.serviceSplit(e.Service, nil), nil
	case GatewayAPI:
		return o.gatewaySplit(e)
	case IngressNginx:
		return o.ingressSplit(e)
	}
	return nil, fmt.Errorf("unknown data plane %v", e.DataPlane)
}

// serviceSplit follows a Service's documented semantics: its selector
// picks the pods; those that are Ready, have an IP and are not being
// deleted are its endpoints (when port is set, only pods on which its
// target port resolves); kube-proxy spreads evenly over them. A missing
// Service or one without endpoints: everything to revision 0.
func (o Objects) serviceSplit(name string, port *int32) Split {
	svc, ok := o.Services[name]
	if !ok || len(svc.Spec.Selector) == 0 {
		// A Service without selector has only manual endpoints, which
		// gantry's routers never write.
		return Split{0: 100}
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if port == nil || svc.Spec.Ports[i].Port == *port {
			sp = &svc.Spec.Ports[i]
			break
		}
	}
	if sp == nil {
		return Split{0: 100}
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	count := map[int]int{}
	total := 0
	for _, p := range o.Pods {
		if !sel.Matches(labels.Set(p.Labels)) || !podReady(&p) || !resolves(&p, sp.TargetPort) {
			continue
		}
		rev, _ := strconv.Atoi(p.Labels[kube.LabelRevision])
		count[rev]++
		total++
	}
	if total == 0 {
		return Split{0: 100}
	}
	out := Split{}
	for rev, n := range count {
		out[rev] = 100 * float64(n) / float64(total)
	}
	return out
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// resolves says whether a Service's targetPort names a port of the pod
// (a number always does).
func resolves(p *corev1.Pod, target intstr.IntOrString) bool {
	if target.Type == intstr.Int {
		return true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == target.StrVal {
				return true
			}
		}
	}
	return false
}

// gatewaySplit follows the Gateway API's HTTPRoute semantics (v1): the
// route attached to the Gateway (parentRefs: kind Gateway by default,
// namespace the route's own by default) whose hostnames include the host
// (none: every host) and whose rule matches "/" (no matches: a PathPrefix
// "/" match) carries the request; its backendRefs share it in proportion
// to their weights (unset: 1; 0: none; all 0: every request is answered
// 500); a backendRef to a Service that does not exist, in another
// namespace or without a port is invalid (its share answered 500).
func (o Objects) gatewaySplit(e Entry) (Split, error) {
	var found []*gatewayv1.HTTPRouteRule
	var names []string
	for _, name := range slices.Sorted(maps.Keys(o.Routes)) {
		r := o.Routes[name]
		if !attached(r, o.Namespace, e) || !hostMatches(r.Spec.Hostnames, e.Host) {
			continue
		}
		for i := range r.Spec.Rules {
			if rootMatches(r.Spec.Rules[i].Matches) {
				found = append(found, &r.Spec.Rules[i])
				names = append(names, name)
			}
		}
	}
	switch len(found) {
	case 0:
		return Split{0: 100}, nil // the Gateway answers 404
	case 1:
	default:
		return nil, fmt.Errorf("%d HTTPRoute rules (%v) route %s/ on Gateway %s: want one", len(found), names, e.Host, e.Gateway)
	}
	total := 0
	for _, ref := range found[0].BackendRefs {
		total += int(weightOf(ref.Weight, 1))
	}
	if total == 0 {
		return Split{0: 100}, nil
	}
	out := Split{}
	for _, ref := range found[0].BackendRefs {
		share := 100 * float64(weightOf(ref.Weight, 1)) / float64(total)
		if share == 0 {
			continue
		}
		if !validServiceRef(ref.BackendObjectReference, o.Namespace) {
			out.add(Split{0: 100}, share)
			continue
		}
		port := int32(*ref.Port)
		out.add(o.serviceSplit(string(ref.Name), &port), share)
	}
	return out, nil
}

func weightOf(w *int32, def int32) int32 {
	if w == nil {
		return def
	}
	return *w
}

func attached(r *gatewayv1.HTTPRoute, ns string, e Entry) bool {
	gwNS := e.GatewayNamespace
	if gwNS == "" {
		gwNS = ns
	}
	for _, p := range r.Spec.ParentRefs {
		pns := ns
		if p.Namespace != nil {
			pns = string(*p.Namespace)
		}
		group := gatewayv1.GroupName
		if p.Group != nil {
			group = string(*p.Group)
		}
		kind := "Gateway"
		if p.Kind != nil {
			kind = string(*p.Kind)
		}
		if group == gatewayv1.GroupName && kind == "Gateway" && string(p.Name) == e.Gateway && pns == gwNS {
			return true
		}
	}
	return false
}

// hostMatches: no hostnames match every host; "*.example.com" matches
// one or more labels in front of example.com.
func hostMatches(hosts []gatewayv1.Hostname, host string) bool {
	if len(hosts) == 0 {
		return true
	}
	for _, h := range hosts {
		s := string(h)
		if s == host || (strings.HasPrefix(s, "*.") && strings.HasSuffix(host, s[1:]) && len(host) > len(s)-1) {
			return true
		}
	}
	return false
}

// rootMatches: a request for "/" matches a rule without matches or with a
// PathPrefix "/" (the default type, the default value) or Exact "/" match
// that asks nothing else (no headers, query or method).
func rootMatches(ms []gatewayv1.HTTPRouteMatch) bool {
	if len(ms) == 0 {
		return true
	}
	for _, m := range ms {
		if len(m.Headers) > 0 || len(m.QueryParams) > 0 || m.Method != nil {
			continue
		}
		if m.Path == nil || m.Path.Value == nil || *m.Path.Value == "/" {
			if m.Path == nil || m.Path.Type == nil || *m.Path.Type != gatewayv1.PathMatchRegularExpression {
				return true
			}
		}
	}
	return false
}

func validServiceRef(ref gatewayv1.BackendObjectReference, ns string) bool {
	if ref.Group != nil && *ref.Group != "" {
		return false
	}
	if ref.Kind != nil && *ref.Kind != "Service" {
		return false
	}
	if ref.Namespace != nil && string(*ref.Namespace) != ns {
		return false // needs a ReferenceGrant, which gantry never writes
	}
	return ref.Port != nil
}

// The ingress-nginx canary annotations (its documented names).
const (
	annCanary            = "nginx.ingress.kubernetes.io/canary"
	annCanaryWeight      = "nginx.ingress.kubernetes.io/canary-weight"
	annCanaryWeightTotal = "nginx.ingress.kubernetes.io/canary-weight-total"
)

// ingressSplit follows ingress-nginx's documented canary semantics: the
// Ingresses of the class with a rule for the host and path "/" are the
// main one and at most one canary (canary: "true"); the canary takes
// canary-weight out of canary-weight-total (default 100) of the requests
// (no canary-weight: none), the main Ingress the rest. Each backend is a
// Service (by name and port number).
func (o Objects) ingressSplit(e Entry) (Split, error) {
	var main, canary []string
	backends := map[string]networkingv1.IngressServiceBackend{}
	for _, name := range slices.Sorted(maps.Keys(o.Ingresses)) {
		ing := o.Ingresses[name]
		class := ing.Annotations["kubernetes.io/ingress.class"]
		if ing.Spec.IngressClassName != nil {
			class = *ing.Spec.IngressClassName
		}
		if class != e.IngressClass {
			continue
		}
		b, ok := rootBackend(ing, e.Host)
		if !ok {
			continue
		}
		backends[name] = b
		if ing.Annotations[annCanary] == "true" {
			canary = append(canary, name)
		} else {
			main = append(main, name)
		}
	}
	if len(main) == 0 {
		// ingress-nginx serves no canary without its main Ingress: 404.
		return Split{0: 100}, nil
	}
	if len(main) > 1 || len(canary) > 1 {
		return nil, fmt.Errorf("Ingresses %v (main) and %v (canary) route %s/ for class %s: want one of each at most", main, canary, e.Host, e.IngressClass)
	}
	mainSplit := o.ingressBackend(backends[main[0]])
	if len(canary) == 0 {
		return mainSplit, nil
	}
	ann := o.Ingresses[canary[0]].Annotations
	w, total := atoiOr(ann[annCanaryWeight], 0), atoiOr(ann[annCanaryWeightTotal], 100)
	share := 0.0
	if total > 0 {
		share = 100 * float64(min(max(w, 0), total)) / float64(total)
	}
	out := Split{}
	out.add(mainSplit, 100-share)
	out.add(o.ingressBackend(backends[canary[0]]), share)
	return out, nil
}

func (o Objects) ingressBackend(b networkingv1.IngressServiceBackend) Split {
	if b.Port.Name != "" {
		svc, ok := o.Services[b.Name]
		if !ok {
			return Split{0: 100}
		}
		for _, p := range svc.Spec.Ports {
			if p.Name == b.Port.Name {
				return o.serviceSplit(b.Name, &p.Port)
			}
		}
		return Split{0: 100}
	}
	port := b.Port.Number
	return o.serviceSplit(b.Name, &port)
}

// rootBackend returns the Service backend of ing's rule for host and "/".
func rootBackend(ing *networkingv1.Ingress, host string) (networkingv1.IngressServiceBackend, bool) {
	for _, r := range ing.Spec.Rules {
		if r.Host != host || r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if p.Path == "/" && p.Backend.Service != nil {
				return *p.Backend.Service, true
			}
		}
	}
	return networkingv1.IngressServiceBackend{}, false
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}
