package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/gantry-dev/gantry/rollout"
)

// DefaultMetricsInterval is how often pod metrics are read when
// Options.MetricsInterval is zero: metrics-server's own resolution.
const DefaultMetricsInterval = 15 * time.Second

// metricsGroupVersion is the metrics API (metrics-server) gantry reads.
const metricsGroupVersion = "metrics.k8s.io/v1beta1"

// usage is one pod's CPU and memory, from the metrics API.
type usage struct {
	cpuMillis, memoryBytes int64
}

// podMetrics reads the metrics API in each watched namespace: CPU and
// memory per instance when the cluster serves it, empty otherwise, said
// once.
type podMetrics struct {
	mu      sync.Mutex
	byPod   map[string]usage // by namespace/name
	polls   int              // finished polls, for tests
	said    map[string]bool  // what was already logged
	client  metricsclient.Interface
	clientE error
}

// usageOf returns a pod's usage: its workload container's, the CPU in
// thousandths of a core and the memory as the working set in bytes (what
// kubectl top and the kubelet's evictions count). ok is false without
// the workload container.
func usageOf(m *metricsv1beta1.PodMetrics) (u usage, ok bool) {
	for _, c := range m.Containers {
		if c.Name != ContainerName {
			continue
		}
		cpu, mem := c.Usage[corev1.ResourceCPU], c.Usage[corev1.ResourceMemory]
		return usage{cpuMillis: cpu.MilliValue(), memoryBytes: mem.Value()}, true
	}
	return usage{}, false
}

// addUsage fills in's CPU and memory from the last poll; left zero when
// there is none.
func (b *Backend) addUsage(in *rollout.Instance, ns string) {
	b.metrics.mu.Lock()
	u, ok := b.metrics.byPod[ns+"/"+in.ID]
	b.metrics.mu.Unlock()
	if ok {
		in.CPUMillis, in.RSSBytes = u.cpuMillis, u.memoryBytes
	}
}

// pollMetrics reads ns's pod metrics every interval until stop closes.
func (b *Backend) pollMetrics(ns string, stop chan struct{}) {
	interval := b.opts.MetricsInterval
	if interval <= 0 {
		interval = DefaultMetricsInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		err := b.readMetrics(ctx, ns)
		cancel()
		b.metrics.mu.Lock()
		b.metrics.polls++
		b.metrics.mu.Unlock()
		if err != nil {
			b.sayOnce(ns, err)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// errNotServed: the cluster has no metrics API.
var errNotServed = errors.New("the cluster does not serve the metrics API (" + metricsGroupVersion + "); instances' CPU and memory stay empty until it does: install metrics-server")

// readMetrics replaces ns's usage with the metrics API's.
func (b *Backend) readMetrics(ctx context.Context, ns string) error {
	if _, err := b.c.Client.Discovery().ServerResourcesForGroupVersion(metricsGroupVersion); err != nil {
		if apierrors.IsNotFound(err) {
			return errNotServed
		}
		return fmt.Errorf("metrics API on %s: %w", b.c.Host, err)
	}
	if err := b.c.Check(ctx, ns, MetricsPermissions); err != nil {
		return fmt.Errorf("instances' CPU and memory stay empty: %w", err)
	}
	client, err := b.metricsClient()
	if err != nil {
		return err
	}
	list, err := client.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedBy})
	if err != nil {
		return fmt.Errorf("read pod metrics in %q: %w", ns, err)
	}
	b.metrics.mu.Lock()
	defer b.metrics.mu.Unlock()
	for k := range b.metrics.byPod {
		if len(k) > len(ns) && k[:len(ns)+1] == ns+"/" {
			delete(b.metrics.byPod, k)
		}
	}
	for i := range list.Items {
		if u, ok := usageOf(&list.Items[i]); ok {
			b.metrics.byPod[ns+"/"+list.Items[i].Name] = u
		}
	}
	return nil
}

func (b *Backend) metricsClient() (metricsclient.Interface, error) {
	b.metrics.mu.Lock()
	defer b.metrics.mu.Unlock()
	if b.metrics.client == nil && b.metrics.clientE == nil {
		b.metrics.client, b.metrics.clientE = metricsclient.NewForConfig(b.c.REST)
	}
	return b.metrics.client, b.metrics.clientE
}

// sayOnce logs err the first time this kind of error is seen: "not
// served" once per backend, others once per namespace and message.
func (b *Backend) sayOnce(ns string, err error) {
	key := ns + "|" + err.Error()
	if errors.Is(err, errNotServed) {
		key = "not served"
	}
	b.metrics.mu.Lock()
	said := b.metrics.said[key]
	b.metrics.said[key] = true
	b.metrics.mu.Unlock()
	if !said && b.opts.Logf != nil {
		b.opts.Logf("kubernetes: %v", err)
	}
}
