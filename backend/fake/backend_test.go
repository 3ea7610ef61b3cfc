package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/backendtest"
	"github.com/gantry-dev/gantry/backend/fake"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func TestBackend_Conformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backendtest.Harness {
		c := fake.NewCluster()
		open := func(t *testing.T) backend.Backend {
			b := fake.New(c, backend.Options{})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if err := b.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			})
			return b
		}
		return backendtest.Harness{Backend: open(t), Reopen: open, Revision: revision, Timeout: time.Minute}
	})
}

func revision(app, env string, number int, version string) rollout.Revision {
	grace := 5
	return rollout.Revision{App: app, Env: env, Number: number, Version: version,
		Spec: spec.AppSpec{TerminationGracePeriodSeconds: &grace}, CreatedAt: time.Now()}
}
