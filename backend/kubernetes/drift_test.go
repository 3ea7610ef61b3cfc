package kubernetes

import (
	"context"
	"sync"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/rollout"
)

// TestBackend_DriftScaledByHand: a revision's ReplicaSet scaled outside
// gantry (kubectl scale) is set back to gantry's count, and a Warning
// DriftCorrected event carries the fact: object, field, both counts.
func TestBackend_DriftScaledByHand(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-drift")
	c, err := Connect(context.Background(), Config{REST: env.AsGantry(t, ns), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []rollout.Event
	b := newTestBackend(t, c, Options{Event: func(e rollout.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	ctx := context.Background()
	rev := autoscaledRevision(1, nil)
	if err := b.Scale(ctx, rev, 2); err != nil {
		t.Fatal(err)
	}
	name := ReplicaSetName("api", "prod", 1)
	if _, err := env.Client.AppsV1().ReplicaSets(ns).UpdateScale(ctx, name, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 5},
	}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := rollout.DriftFact{Kind: "ReplicaSet", Namespace: ns, Name: name, Field: "spec.replicas", Was: "5", Now: "2"}
	waitFor(t, "a DriftCorrected event with the ReplicaSet's fact", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			if e.Reason == rollout.ReasonDriftCorrected && e.Type == rollout.Warning && e.Details != nil &&
				len(e.Details.Drift) == 1 && e.Details.Drift[0] == want {
				return true
			}
		}
		return false
	})
	waitFor(t, "the ReplicaSet set back to 2 replicas", func() bool {
		return ptrOr(getRS(t, env, ns, 1).Spec.Replicas) == 2
	})
}
