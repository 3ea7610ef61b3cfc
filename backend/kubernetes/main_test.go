package kubernetes

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/backendtest"
	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/internal/testbin"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// samplePath is the sample workload binary the pods' processes run.
var samplePath string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "github.com/gantry-dev/gantry/cmd/gantry-sample", &samplePath))
}

// timeout bounds every wait: generous, so a slow machine only makes the
// tests slower.
const timeout = 2 * time.Minute

// sampleRevision runs the sample workload's image with version.
func sampleRevision(app, env string, number int, version string) rollout.Revision {
	grace := 5
	return rollout.Revision{
		App: app, Env: env, Number: number, Version: version,
		Spec: spec.AppSpec{
			Workload:                      spec.Workload{Image: "ghcr.io/gantry-dev/gantry-sample:{{.Version}}", Port: 8080},
			Kubernetes:                    &spec.Kubernetes{Annotations: k8stestenv.CustomStatus},
			ReadinessProbe:                &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/ready"}, PeriodSeconds: 1},
			TerminationGracePeriodSeconds: &grace,
		},
		CreatedAt: time.Now(),
	}
}

// testCluster connects as gantry (the shipped Role) to a fresh namespace
// of the test control plane, whose pods are served by real processes.
func testCluster(t *testing.T) (*Cluster, *k8stestenv.Env, *k8stestenv.Pods) {
	t.Helper()
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-backend")
	pods := env.RunPods(t, ns, LabelManagedBy+"="+ManagedBy, samplePath)
	c, err := Connect(context.Background(), Config{REST: env.AsGantry(t, ns), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	return c, env, pods
}

func newTestBackend(t *testing.T, c *Cluster, o Options) *Backend {
	t.Helper()
	o.Cluster = c
	b, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Release)
	return b
}

func TestBackend_Conformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backendtest.Harness {
		c, _, pods := testCluster(t)
		return backendtest.Harness{
			Backend:            newTestBackend(t, c, Options{}),
			Reopen:             func(t *testing.T) backend.Backend { return newTestBackend(t, c, Options{}) },
			Revision:           sampleRevision,
			Timeout:            timeout,
			Reach:              pods.Reach,
			LogsGoWithInstance: true,
		}
	})
}
