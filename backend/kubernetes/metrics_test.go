package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/gantry-dev/gantry/internal/k8stestenv"
)

// podMetricsJSON is a metrics-server answer: the workload container and
// a sidecar.
const podMetricsJSON = `{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
 {"metadata":{"name":"api-prod-1-abcde","namespace":"apps"},"timestamp":"2026-11-29T06:00:00Z","window":"15s",
  "containers":[{"name":"istio-proxy","usage":{"cpu":"3m","memory":"40Mi"}},{"name":"app","usage":{"cpu":"250123456n","memory":"262144Ki"}}]},
 {"metadata":{"name":"other","namespace":"apps"},"containers":[{"name":"sidecar","usage":{"cpu":"1","memory":"1Gi"}}]}]}`

func TestUsageOf(t *testing.T) {
	var list metricsv1beta1.PodMetricsList
	if err := json.Unmarshal([]byte(podMetricsJSON), &list); err != nil {
		t.Fatal(err)
	}
	got, ok := usageOf(&list.Items[0])
	if want := (usage{cpuMillis: 251, memoryBytes: 256 << 20}); !ok || got != want {
		t.Errorf("usageOf(app container) = %+v, %v; want %+v (nanocores rounded up to millicores, working set bytes)", got, ok, want)
	}
	if _, ok := usageOf(&list.Items[1]); ok {
		t.Errorf("usageOf(a pod without the workload container) reported usage")
	}
}

// TestBackend_metricsNotServed: the test control plane serves no metrics
// API; the backend says so once, whatever the number of polls, and the
// instances' CPU and memory stay empty.
func TestBackend_metricsNotServed(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-metrics")
	c, err := Connect(context.Background(), Config{REST: env.AsGantry(t, ns), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var said []string
	b := newTestBackend(t, c, Options{MetricsInterval: 10 * time.Millisecond, Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		said = append(said, strings.TrimSpace(fmt.Sprintf(format, args...)))
	}})
	rev := autoscaledRevision(1, nil)
	if err := b.Scale(context.Background(), rev, 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two running instances and five polls", func() bool {
		running := 0
		for _, in := range b.Instances("api", "prod") {
			if in.Ready {
				running++
			}
		}
		b.metrics.mu.Lock()
		polls := b.metrics.polls
		b.metrics.mu.Unlock()
		return running == 2 && polls >= 5
	})
	for _, in := range b.Instances("api", "prod") {
		if in.CPUMillis != 0 || in.RSSBytes != 0 {
			t.Errorf("instance %s: CPU %dm memory %d bytes without a metrics API", in.ID, in.CPUMillis, in.RSSBytes)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(said) != 1 || !strings.Contains(said[0], "does not serve the metrics API (metrics.k8s.io/v1beta1)") {
		t.Errorf("said %q; want once that the metrics API is not served", said)
	}
}
