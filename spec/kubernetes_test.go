package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParse_Kubernetes checks the kubernetes fields: a full spec resolves
// with the environment's overrides field by field, and each bad field is
// one error at its line with the fix.
func TestParse_Kubernetes(t *testing.T) {
	good := `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    image: ghcr.io/acme/api:{{.Version}}
    env:
      - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
  kubernetes:
    namespace: apps
    serviceAccountName: api
    nodeSelector: {pool: general}
    tolerations: [{key: dedicated, value: api, effect: NoSchedule}]
    annotations: {prometheus.io/scrape: "true"}
environments:
  - name: prod
    backend: kubernetes
    kubernetes:
      namespace: prod
      router: {type: gatewayAPI, gateway: {name: public}, hostnames: [api.example.com]}
`
	app, err := Parse("gantry.yaml", []byte(good))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got, err := app.Resolve("prod")
	if err != nil {
		t.Fatal(err)
	}
	k := got.Kubernetes
	if k == nil || k.Namespace != "prod" || k.ServiceAccountName != "api" || k.NodeSelector["pool"] != "general" ||
		len(k.Tolerations) != 1 || k.RouterType() != RouterGatewayAPI || k.Router.Gateway.Name != "public" {
		t.Errorf("resolved kubernetes = %+v, want namespace prod from the environment and the rest from spec", k)
	}
	if app.Spec.Kubernetes.Namespace != "apps" || app.Spec.Kubernetes.Router != nil {
		t.Errorf("resolving changed the base spec: %+v", app.Spec.Kubernetes)
	}

	bad := []struct {
		name, kube, want string // want: "line:col path fragment"
	}{
		{"namespace", "namespace: Apps_1", `10:5 spec.kubernetes.namespace "Apps_1" is not a namespace name`},
		{"service account", "serviceAccountName: -x", `10:5 spec.kubernetes.serviceAccountName "-x" is not a ServiceAccount name`},
		{"node selector", "nodeSelector: {'a b': x}", `10:5 spec.kubernetes.nodeSelector label key "a b"`},
		{"gantry annotation", "annotations: {gantry.dev/revision: '1'}", `10:5 spec.kubernetes.annotations annotation key "gantry.dev/revision" is gantry's own`},
		{"toleration operator", "tolerations: [{key: a, operator: In}]", `10:28 spec.kubernetes.tolerations[0].operator "In" is not an operator; use Equal or Exists`},
		{"toleration effect", "tolerations: [{key: a, effect: Never}]", `10:28 spec.kubernetes.tolerations[0].effect "Never" is not a taint effect`},
		{"router type", "router: {type: istio}", `10:14 spec.kubernetes.router.type "istio" is not a router; use service (the default), gatewayAPI or ingressNginx`},
		{"gateway missing", "router: {type: gatewayAPI}", `10:5 spec.kubernetes.router.gateway required for type gatewayAPI`},
		{"ingress host missing", "router: {type: ingressNginx}", `10:5 spec.kubernetes.router.hostnames required for type ingressNginx`},
		{"unknown field", "namespce: x", `10:5 spec.kubernetes.namespce unknown field "namespce"; did you mean "namespace"?`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    image: ghcr.io/acme/api:{{.Version}}
    env:
      - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
  kubernetes:
    %s
environments: [{name: prod, backend: kubernetes}]
`, tt.kube)
			expectOne(t, src, tt.want)
		})
	}
}

// TestParse_Image checks the image reference with {{.Version}} filled.
func TestParse_Image(t *testing.T) {
	for _, tt := range []struct{ image, want string }{
		{"ghcr.io/acme/api:{{.Version}}", ""},
		{"acme/api@sha256:" + strings.Repeat("ab", 32), ""},
		{"ghcr.io/acme/API:{{.Version}}", `6:5 spec.workload.image "ghcr.io/acme/API:{{.Version}}" is not an image reference`},
		{"acme/api:bad tag", `6:5 spec.workload.image "acme/api:bad tag" is not an image reference`},
		{"acme/api@sha256:12", `6:5 spec.workload.image "acme/api@sha256:12" is not an image reference`},
	} {
		src := fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    image: %q
environments: [{name: prod, backend: kubernetes}]
`, tt.image)
		expectOne(t, src, tt.want)
	}
}

// expectOne parses src and expects no error (want empty) or exactly the
// one described as "line:col path fragment".
func expectOne(t *testing.T, src, want string) {
	t.Helper()
	_, err := Parse("gantry.yaml", []byte(src))
	if want == "" {
		if err != nil {
			t.Errorf("Parse: %v, want no error", err)
		}
		return
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Parse: %v, want exactly one problem: %s", err, want)
	}
	pos, rest, _ := strings.Cut(want, " ")
	path, msg, _ := strings.Cut(rest, " ")
	e := list[0]
	if got := fmt.Sprintf("%d:%d", e.Line, e.Column); got != pos || e.Path != path || !strings.Contains(e.Message, msg) {
		t.Errorf("problem = %s, want at %s, %s: %s", e.Error(), pos, path, msg)
	}
}
