package spec

import (
	"fmt"
	"testing"
)

// TestParse_Autoscaling checks spec.kubernetes.autoscaling: the plan's
// defaults, an environment's override, and each bad value as one error at
// its line with the fix.
func TestParse_Autoscaling(t *testing.T) {
	src := func(autoscaling, prod string) string {
		return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    image: ghcr.io/acme/api:{{.Version}}
  kubernetes:
    autoscaling:
      %s
environments:
  - name: prod
    backend: kubernetes
    kubernetes: {autoscaling: {%s}}
  - name: staging
    backend: kubernetes
`, autoscaling, prod)
	}
	app, err := Parse("gantry.yaml", []byte(src("targetCPUUtilizationPercentage: 80", "maxReplicas: 20")))
	if err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]string{"staging": "3-10 replicas at 80% CPU", "prod": "3-20 replicas at 70% CPU"} {
		got, err := app.Resolve(env)
		if err != nil {
			t.Fatal(err)
		}
		if a := got.Kubernetes.Autoscaling; a == nil || a.String() != want {
			t.Errorf("%s: autoscaling %v, want %s", env, a, want)
		}
	}
	for _, tt := range []struct{ name, autoscaling, want string }{
		{"negative min", "minReplicas: -1", `9:7 spec.kubernetes.autoscaling.minReplicas -1 is negative; set at least 1`},
		{"max below min", "{minReplicas: 5, maxReplicas: 4}", `9:24 spec.kubernetes.autoscaling.maxReplicas maxReplicas 4 is below minReplicas 5; raise maxReplicas or lower minReplicas`},
		{"min above default max", "minReplicas: 12", `9:7 spec.kubernetes.autoscaling.minReplicas maxReplicas 10 is below minReplicas 12`},
		{"negative target", "targetCPUUtilizationPercentage: -5", `9:7 spec.kubernetes.autoscaling.targetCPUUtilizationPercentage -5 is negative`},
		{"unknown field", "maxReplica: 4", `9:7 spec.kubernetes.autoscaling.maxReplica unknown field "maxReplica"; did you mean "maxReplicas"?`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expectOne(t, src(tt.autoscaling, ""), tt.want)
		})
	}
}
