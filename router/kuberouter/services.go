package kuberouter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// ensureService creates or updates a gantry Service of st's environment
// with selector sel, owned by the environment's owner ConfigMap; with
// keep, one that exists is left as it is. One that exists without
// gantry's label is an error, left alone. A selector set back while
// resyncing is told to st.drift.
func (r *Router) ensureService(ctx context.Context, st *envState, name string, sel map[string]string, keep bool) error {
	c, ns := r.opts.Cluster, st.ns
	svcs := c.Client.CoreV1().Services(ns)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := svcs.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			owner, err := kube.Owner(ctx, c, ns, st.e.App, st.e.Name)
			if err != nil {
				return err
			}
			_, err = svcs.Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: envSelector(st.e.App, st.e.Name),
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}},
				Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{
					Name: "http", Port: int32(r.opts.Port), TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}},
			}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create Service %s/%s: %w", ns, name, err)
			}
			st.drift.add(rollout.DriftFact{Kind: "Service", Namespace: ns, Name: name, Recreated: true})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read Service %s/%s: %w", ns, name, err)
		}
		if !ours(&cur.ObjectMeta) {
			return fmt.Errorf("Service %s/%s exists and was not created by gantry (no %s=%s label); gantry leaves it alone: rename or delete it", ns, name, kube.LabelManagedBy, kube.ManagedBy)
		}
		if keep || maps.Equal(cur.Spec.Selector, sel) {
			return nil
		}
		st.drift.add(rollout.DriftFact{Kind: "Service", Namespace: ns, Name: name, Field: "spec.selector",
			Was: labelsString(cur.Spec.Selector), Now: labelsString(sel)})
		cur.Spec.Selector = sel
		if _, err := svcs.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("switch Service %s/%s: %w", ns, name, err)
		}
		return nil
	})
}

// labelsString renders a selector as k=v,… in key order.
func labelsString(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// deleteOurs deletes a Service gantry created, if it exists.
func deleteOurs(ctx context.Context, c *kube.Cluster, ns, name string) error {
	svcs := c.Client.CoreV1().Services(ns)
	cur, err := svcs.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read Service %s/%s: %w", ns, name, err)
	}
	if !ours(&cur.ObjectMeta) {
		return nil
	}
	if err := svcs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Service %s/%s: %w", ns, name, err)
	}
	return nil
}
