package kubernetes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Logs implements backend.Backend from the pod log API: the workload
// container's log, which Kubernetes keeps while the pod exists (its
// current and previous run). TailBytes cuts the log to its last bytes
// (holding no more than twice that while reading); Since starts it at
// that time (the log API's sinceTime, to the second); with Follow the stream stays open for new lines. A pod that is not an
// instance of app in env wraps rollout.ErrNotFound.
func (b *Backend) Logs(ctx context.Context, app, env, instance string, o backend.LogOptions) (io.ReadCloser, error) {
	ns := b.namespaceOf(app, env)
	notFound := fmt.Errorf("log of instance %q of %s/%s: %w", instance, app, env, rollout.ErrNotFound)
	w := b.watchOf(ns)
	if w == nil || instance == "" {
		return nil, notFound
	}
	p, err := w.pods.Pods(ns).Get(instance)
	if err != nil || p.Labels[LabelApp] != app || p.Labels[LabelEnv] != env || !ours(p) {
		return nil, notFound
	}
	logs := b.c.Client.CoreV1().Pods(ns)
	var since *metav1.Time
	if !o.Since.IsZero() {
		since = &metav1.Time{Time: o.Since}
	}
	skip := int64(0)
	if o.TailBytes > 0 {
		// The log API counts lines, not bytes: measure the log first.
		r, err := logs.GetLogs(instance, &corev1.PodLogOptions{Container: ContainerName, SinceTime: since}).Stream(ctx)
		if err != nil {
			return nil, b.logErr(instance, ns, err, notFound)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("read the log of pod %s/%s: %w", ns, instance, err)
		}
		skip = max(0, n-o.TailBytes)
	}
	r, err := logs.GetLogs(instance, &corev1.PodLogOptions{Container: ContainerName, Follow: o.Follow, SinceTime: since}).Stream(ctx)
	if err != nil {
		return nil, b.logErr(instance, ns, err, notFound)
	}
	if !o.Follow && o.TailBytes > 0 {
		// Cut at the end as read now (the log may have grown since),
		// keeping no more than the tail while reading.
		defer r.Close()
		t := &tailBuffer{n: int(o.TailBytes)}
		if _, err := io.Copy(t, r); err != nil {
			return nil, fmt.Errorf("read the log of pod %s/%s: %w", ns, instance, err)
		}
		return io.NopCloser(bytes.NewReader(t.bytes())), nil
	}
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, r, skip); err != nil && err != io.EOF {
			r.Close()
			return nil, fmt.Errorf("read the log of pod %s/%s: %w", ns, instance, err)
		}
	}
	return &logStream{r: r}, nil
}

func (b *Backend) logErr(pod, ns string, err, notFound error) error {
	if apierrors.IsNotFound(err) {
		return notFound
	}
	return fmt.Errorf("log of pod %s/%s on %s: %w", ns, pod, b.c.Host, err)
}

// tailBuffer keeps the last n bytes written to it, in at most 2n bytes
// of memory (plus one write).
type tailBuffer struct {
	n   int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.n {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.n:]...)
	}
	return len(p), nil
}

// bytes returns the last n bytes written (all of them when fewer).
func (t *tailBuffer) bytes() []byte {
	if len(t.buf) > t.n {
		return t.buf[len(t.buf)-t.n:]
	}
	return t.buf
}

// logStream ends cleanly (io.EOF) once closed, as a followed log closed by
// its reader should.
type logStream struct {
	r      io.ReadCloser
	mu     sync.Mutex
	closed bool
}

func (l *logStream) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil {
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return n, io.EOF
		}
	}
	return n, err
}

func (l *logStream) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return l.r.Close()
}
