package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/router/kuberouter"
	"github.com/gantry-dev/gantry/server"
)

// gantryKubeconfig writes a kubeconfig that acts as the ServiceAccount
// gantry of namespace ns, bound to the shipped RBAC Role.
func gantryKubeconfig(t *testing.T, env *k8stestenv.Env, ns string) string {
	t.Helper()
	cfg := env.AsGantry(t, ns)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["gantry"] = &clientcmdapi.AuthInfo{ClientCertificate: cfg.CertFile, ClientKey: cfg.KeyFile,
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Impersonate: cfg.Impersonate.UserName}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "gantry", Namespace: ns}
	kc.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

const kubeWebSpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 2
  workload: {image: "ghcr.io/gantry-dev/gantry-sample:{{.Version}}", port: 8080}
  progressDeadlineSeconds: 600
  strategy: {type: RollingUpdate}
  kubernetes:
    router: {type: gatewayAPI, gateway: {name: public}, hostnames: [web.example.com]}
environments:
  - {name: prod, backend: kubernetes, kubernetes: {namespace: NAMESPACE}}
`

// TestServer_KubernetesEnvironmentUsesItsRouter: gantry server
// --kubernetes, acting with the shipped Role, routes an environment on the
// kubernetes backend through the router its spec names (here an HTTPRoute
// of the Gateway API), and an environment in a namespace that does not
// exist is refused at apply, with nothing stored.
func TestServer_KubernetesEnvironmentUsesItsRouter(t *testing.T) {
	kenv := k8stestenv.Require(t)
	ns := kenv.Namespace(t, "gantry-server")
	kubeconfig := gantryKubeconfig(t, kenv, ns)
	e := startServerOpts(t, strings.ReplaceAll(kubeWebSpec, "NAMESPACE", ns), func(o *server.Options) {
		o.Kubernetes = &server.KubernetesOptions{Kubeconfig: kubeconfig, Namespace: ns}
		o.StopInstancesOnExit = false
	})
	ctx := context.Background()
	gw, err := gatewayclient.NewForConfig(kenv.Admin)
	if err != nil {
		t.Fatal(err)
	}
	route, err := gw.GatewayV1().HTTPRoutes(ns).Get(ctx, kuberouter.ServiceName("web", "prod"), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the HTTPRoute of web/prod: %v", err)
	}
	rules := route.Spec.Rules
	if len(route.Spec.ParentRefs) != 1 || route.Spec.ParentRefs[0].Name != "public" || len(rules) != 1 || len(rules[0].BackendRefs) != 1 ||
		string(rules[0].BackendRefs[0].Name) != kuberouter.ServiceName("web", "prod") || *rules[0].BackendRefs[0].Weight != 100 {
		t.Errorf("HTTPRoute after v1: parents %+v, rules %+v; want gateway public and, after a rolling update, the environment's Service over every revision", route.Spec.ParentRefs, rules)
	}
	st, err := e.c.Status(ctx, "web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("web-prod.%s.svc:80", ns); st.ProxyAddr != want {
		t.Errorf("status address %q, want the Service's %q", st.ProxyAddr, want)
	}

	// An environment in a namespace that does not exist: refused at apply.
	bad := strings.ReplaceAll(strings.ReplaceAll(kubeWebSpec, "NAMESPACE", "no-such-namespace"), "web", "cart")
	_, err = e.c.Apply(ctx, "gantry.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "no-such-namespace") {
		t.Fatalf("apply into a missing namespace: %v; want an error naming it", err)
	}
	t.Logf("apply into a missing namespace: %v", err)
	if apps, err := e.c.Apps(ctx); err != nil || len(apps) != 1 {
		t.Errorf("apps after the refused apply: %+v, %v; want only web", apps, err)
	}
}
