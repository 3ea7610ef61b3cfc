package objectroutertest

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
)

// The interpreter checked against the documented semantics it models,
// without a cluster.

func pod(name string, rev string, ready bool) corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web", kube.LabelRevision: rev}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func service(name string, sel map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ServiceSpec{Selector: sel,
		Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}}}}
}

func objects() Objects {
	return Objects{Namespace: "ns",
		Services: map[string]*corev1.Service{
			"all": service("all", map[string]string{"app": "web"}),
			"r1":  service("r1", map[string]string{"app": "web", kube.LabelRevision: "1"}),
			"r2":  service("r2", map[string]string{"app": "web", kube.LabelRevision: "2"}),
			"r3":  service("r3", map[string]string{"app": "web", kube.LabelRevision: "3"}),
		},
		Pods:      []corev1.Pod{pod("a", "1", true), pod("b", "1", true), pod("c", "1", false), pod("d", "2", true), pod("e", "3", false)},
		Routes:    map[string]*gatewayv1.HTTPRoute{},
		Ingresses: map[string]*networkingv1.Ingress{},
	}
}

func TestObjects_SplitService(t *testing.T) {
	o := objects()
	for _, tt := range []struct {
		svc  string
		want Split
	}{
		{"all", Split{1: 200.0 / 3, 2: 100.0 / 3}}, // the unready pods c and e are no endpoints
		{"r1", Split{1: 100}},
		{"r3", Split{0: 100}}, // no ready endpoint
		{"missing", Split{0: 100}},
	} {
		if got, _ := o.Split(Entry{DataPlane: KubeProxy, Service: tt.svc}); !got.near(tt.want) {
			t.Errorf("Service %s: %s, want %s", tt.svc, got, tt.want)
		}
	}
	named := objects()
	named.Services["all"].Spec.Ports[0].TargetPort = intstr.FromString("metrics")
	if got, _ := named.Split(Entry{DataPlane: KubeProxy, Service: "all"}); !got.near(Split{0: 100}) {
		t.Errorf("a target port no pod names: %s, want no endpoint", got)
	}
}

func ref(name string, weight *int32) gatewayv1.HTTPBackendRef {
	port := gatewayv1.PortNumber(80)
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name), Port: &port}, Weight: weight}}
}

func weight(n int32) *int32 { return &n }

func TestObjects_SplitGateway(t *testing.T) {
	gw := Entry{DataPlane: GatewayAPI, Host: "web.example.com", Gateway: "public", GatewayNamespace: "infra"}
	infra := gatewayv1.Namespace("infra")
	for _, tt := range []struct {
		name   string
		parent gatewayv1.ParentReference
		hosts  []gatewayv1.Hostname
		refs   []gatewayv1.HTTPBackendRef
		want   Split
	}{
		{"weights", gatewayv1.ParentReference{Name: "public", Namespace: &infra}, nil,
			[]gatewayv1.HTTPBackendRef{ref("r1", weight(90)), ref("r2", weight(10))}, Split{1: 90, 2: 10}},
		{"unset weights are 1", gatewayv1.ParentReference{Name: "public", Namespace: &infra}, []gatewayv1.Hostname{"web.example.com"},
			[]gatewayv1.HTTPBackendRef{ref("r1", nil), ref("r2", nil)}, Split{1: 50, 2: 50}},
		{"all weights 0: 500 for every request", gatewayv1.ParentReference{Name: "public", Namespace: &infra}, nil,
			[]gatewayv1.HTTPBackendRef{ref("r1", weight(0)), ref("r2", weight(0))}, Split{0: 100}},
		{"a missing Service's share fails", gatewayv1.ParentReference{Name: "public", Namespace: &infra}, nil,
			[]gatewayv1.HTTPBackendRef{ref("r1", weight(75)), ref("gone", weight(25))}, Split{1: 75, 0: 25}},
		{"wildcard host", gatewayv1.ParentReference{Name: "public", Namespace: &infra}, []gatewayv1.Hostname{"*.example.com"},
			[]gatewayv1.HTTPBackendRef{ref("r2", nil)}, Split{2: 100}},
		{"another host: 404", gatewayv1.ParentReference{Name: "public", Namespace: &infra}, []gatewayv1.Hostname{"api.example.com"},
			[]gatewayv1.HTTPBackendRef{ref("r2", nil)}, Split{0: 100}},
		{"a Gateway in the route's namespace is another Gateway", gatewayv1.ParentReference{Name: "public"}, nil,
			[]gatewayv1.HTTPBackendRef{ref("r2", nil)}, Split{0: 100}},
	} {
		o := objects()
		o.Routes["web"] = &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{tt.parent}},
			Hostnames:       tt.hosts, Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: tt.refs}}}}
		got, err := o.Split(gw)
		if err != nil || !got.near(tt.want) {
			t.Errorf("%s: %s %v, want %s", tt.name, got, err, tt.want)
		}
	}
}

func ingress(name, svc string, ann map[string]string) *networkingv1.Ingress {
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}, Spec: networkingv1.IngressSpec{
		IngressClassName: &class,
		Rules: []networkingv1.IngressRule{{Host: "web.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}},
	}}
}

func TestObjects_SplitIngressNginx(t *testing.T) {
	e := Entry{DataPlane: IngressNginx, Host: "web.example.com", IngressClass: "nginx"}
	for _, tt := range []struct {
		name string
		ings []*networkingv1.Ingress
		want Split
	}{
		{"main only", []*networkingv1.Ingress{ingress("main", "r1", nil)}, Split{1: 100}},
		{"canary-weight 10", []*networkingv1.Ingress{ingress("main", "r1", nil),
			ingress("canary", "r2", map[string]string{annCanary: "true", annCanaryWeight: "10"})}, Split{1: 90, 2: 10}},
		{"canary-weight-total 1000", []*networkingv1.Ingress{ingress("main", "r1", nil),
			ingress("canary", "r2", map[string]string{annCanary: "true", annCanaryWeight: "250", annCanaryWeightTotal: "1000"})}, Split{1: 75, 2: 25}},
		{"no canary-weight: none", []*networkingv1.Ingress{ingress("main", "r1", nil),
			ingress("canary", "r2", map[string]string{annCanary: "true"})}, Split{1: 100}},
		{"canary-weight 100", []*networkingv1.Ingress{ingress("main", "r1", nil),
			ingress("canary", "r2", map[string]string{annCanary: "true", annCanaryWeight: "100"})}, Split{2: 100}},
		{"a canary without its main Ingress: 404", []*networkingv1.Ingress{
			ingress("canary", "r2", map[string]string{annCanary: "true", annCanaryWeight: "50"})}, Split{0: 100}},
	} {
		o := objects()
		for _, ing := range tt.ings {
			o.Ingresses[ing.Name] = ing
		}
		got, err := o.Split(e)
		if err != nil || !got.near(tt.want) {
			t.Errorf("%s: %s %v, want %s", tt.name, got, err, tt.want)
		}
	}
	o := objects()
	o.Ingresses["a"], o.Ingresses["b"] = ingress("a", "r1", nil), ingress("b", "r2", nil)
	if _, err := o.Split(e); err == nil {
		t.Error("two main Ingresses for one host: no error, want the ambiguity named")
	}
}
