package kuberouter

import (
	"context"
	"testing"
	"time"

	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/router/objectroutertest"
	"github.com/gantry-dev/gantry/spec"
)

// TestConformance runs the object-level conformance suite against every
// Kubernetes router on the test control plane, acting with the shipped
// Role.
func TestConformance(t *testing.T) {
	const host = "web.example.com"
	routers := []struct {
		name   string
		new    func(Options) (*Router, error)
		router *spec.KubernetesRouter
		entry  objectroutertest.Entry
		exact  bool
		two    bool
	}{
		{"service", NewService, nil, objectroutertest.Entry{DataPlane: objectroutertest.KubeProxy}, false, false},
		{"gatewayAPI", NewGateway,
			&spec.KubernetesRouter{Type: spec.RouterGatewayAPI, Gateway: &spec.GatewayRef{Name: "public", Namespace: "infra"}, Hostnames: []string{host}},
			objectroutertest.Entry{DataPlane: objectroutertest.GatewayAPI, Host: host, Gateway: "public", GatewayNamespace: "infra"}, true, false},
		{"ingressNginx", NewIngressNginx,
			&spec.KubernetesRouter{Type: spec.RouterIngressNginx, Hostnames: []string{host}},
			objectroutertest.Entry{DataPlane: objectroutertest.IngressNginx, Host: host, IngressClass: "nginx"}, true, true},
	}
	for _, tc := range routers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case in a namespace of its own
			objectroutertest.Run(t, func(t *testing.T) objectroutertest.Harness {
				env := k8stestenv.Require(t)
				ns := env.Namespace(t, "gantry-conformance")
				c, err := kube.Connect(context.Background(), kube.Config{REST: env.AsGantry(t, ns), Namespace: ns})
				if err != nil {
					t.Fatal(err)
				}
				gc, err := gatewayclient.NewForConfig(env.Admin)
				if err != nil {
					t.Fatal(err)
				}
				k := &spec.Kubernetes{Namespace: ns, Router: tc.router}
				events := &eventLog{}
				newRouter := func() router.Router {
					r, err := tc.new(Options{Cluster: c, Event: events.add, Resync: 200 * time.Millisecond,
						Spec: func(string, string) *spec.Kubernetes { return k }})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = r.Close(context.Background()) })
					return r
				}
				h := objectroutertest.Harness{
					Router: newRouter(), Client: env.Client, Gateway: gc, Namespace: ns, Node: k8stestenv.Node,
					Entry: tc.entry, ExactWeights: tc.exact, TwoRevisions: tc.two, Timeout: waitTimeout, Events: events.all,
				}
				h.Restart = func() router.Router {
					_ = h.Router.Close(context.Background())
					return newRouter()
				}
				return h
			})
		})
	}
}
