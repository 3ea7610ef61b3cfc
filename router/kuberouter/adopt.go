package kuberouter

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
)

// A router new in this process (a restart, a new leader) reads the split
// the traffic objects it finds give, so that Stats say what the cluster
// does until the engine sets the traffic again. Objects gantry did not
// create, or that do not exist, say nothing.

// foundService returns the revision a gantry Service of this name is
// pinned to: 0 when it selects every revision; ok false when there is no
// such Service of gantry's; noPodRev when it selects no pod.
func foundService(ctx context.Context, r *Router, st *envState, name string) (rev int, ok bool, err error) {
	svc, err := r.opts.Cluster.Client.CoreV1().Services(st.ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, false, nil
	}
	if err != nil || !ours(&svc.ObjectMeta) {
		return 0, false, err
	}
	return pinned(svc), true, nil
}

// noPodRev is what pinned returns for a Service pinned to no pod.
const noPodRev = -1

func pinned(svc *corev1.Service) int {
	v, ok := svc.Spec.Selector[kube.LabelRevision]
	if !ok {
		return 0
	}
	if v == noPod {
		return noPodRev
	}
	n, _ := strconv.Atoi(v)
	return n
}

func ours(m *metav1.ObjectMeta) bool { return m.Labels[kube.LabelManagedBy] == kube.ManagedBy }

// adoptService sets st's traffic from the environment's Service (and its
// preview Service): pinned to a revision, that revision has everything;
// pinned to none, maintenance; over every revision, no weights.
func adoptService(ctx context.Context, r *Router, st *envState) error {
	rev, ok, err := foundService(ctx, r, st, ServiceName(st.e.App, st.e.Name))
	if err != nil || !ok {
		return err
	}
	switch {
	case rev == noPodRev:
		st.maintenance = true
	case rev > 0:
		st.traffic.Weights = map[int]int{rev: 100}
	}
	return adoptPreview(ctx, r, st)
}

func adoptPreview(ctx context.Context, r *Router, st *envState) error {
	if !st.e.Preview {
		return nil
	}
	rev, ok, err := foundService(ctx, r, st, PreviewServiceName(st.e.App, st.e.Name))
	if err == nil && ok && rev > 0 {
		st.traffic.Preview = rev
	}
	return err
}

// adoptBackends sets st's traffic from the weights of the backend
// Services found (by name): the environment's Service alone is no
// weights (maintenance when pinned to none); revision Services give
// their revision's weight.
func adoptBackends(ctx context.Context, r *Router, st *envState, weights map[string]int) error {
	if len(weights) == 0 {
		return nil
	}
	w := map[int]int{}
	for name, v := range weights {
		rev, ok, err := foundService(ctx, r, st, name)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			return nil // not gantry's split: say nothing
		case name == ServiceName(st.e.App, st.e.Name):
			st.maintenance = rev == noPodRev
			return adoptPreview(ctx, r, st)
		case rev > 0:
			w[rev] += v
		}
	}
	st.traffic.Weights = w
	return adoptPreview(ctx, r, st)
}
