package kuberouter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// The ingress-nginx annotations the canary Ingress carries.
const (
	AnnotationCanary       = "nginx.ingress.kubernetes.io/canary"
	AnnotationCanaryWeight = "nginx.ingress.kubernetes.io/canary-weight"
)

// NewIngressNginx returns the ingress-nginx router: a main Ingress to the
// Service of the revision with the most traffic (the environment's
// Service, over every revision, during a rolling update) and a canary
// Ingress (nginx.ingress.kubernetes.io/canary: "true") with canary-weight
// to the other revision's Service. ingress-nginx splits between two
// backends only: traffic over three revisions is an error.
func NewIngressNginx(o Options) (*Router, error) { return newRouter(o, nginxKind{}) }

type nginxKind struct{}

var ingressPermissions = []kube.Permission{
	{Group: "networking.k8s.io", Resource: "ingresses", Verbs: []string{"get", "create", "update"}},
}

func (nginxKind) prepare(ctx context.Context, c *kube.Cluster, ns string) error {
	return c.Check(ctx, ns, ingressPermissions)
}

// CanaryIngressName is the name of an environment's canary Ingress.
func CanaryIngressName(app, env string) string { return dnsName(app, env, "canary") }

// split returns the main and canary backends and the canary's weight.
func (nginxKind) split(st *envState) (main, canary string, canaryWeight int, err error) {
	app, env := st.e.App, st.e.Name
	if st.traffic.Weights == nil || st.maintenance {
		// Every revision (or, in maintenance, none) through the Service.
		return ServiceName(app, env), "", 0, nil
	}
	var revs []int
	for _, rev := range slices.Sorted(maps.Keys(st.traffic.Weights)) {
		if st.traffic.Weights[rev] > 0 {
			revs = append(revs, rev)
		}
	}
	switch len(revs) {
	case 0:
		return ServiceName(app, env), "", 0, nil
	case 1:
		return RevisionServiceName(app, env, revs[0]), "", 0, nil
	case 2:
		return RevisionServiceName(app, env, revs[0]), RevisionServiceName(app, env, revs[1]), st.traffic.Weights[revs[1]], nil
	}
	return "", "", 0, fmt.Errorf("route %s/%s: ingress-nginx splits traffic between two revisions, not %d (%v); use the gatewayAPI router", app, env, len(revs), revs)
}

func (k nginxKind) apply(ctx context.Context, r *Router, st *envState) error {
	app, env := st.e.App, st.e.Name
	main, canary, cw, err := k.split(st)
	if err != nil {
		return err
	}
	// The environment's Service, over every revision (pinned to none in maintenance).
	if err := r.ensureService(ctx, st, ServiceName(app, env), selector(app, env, rollout.Traffic{}, st.maintenance), st.keep); err != nil {
		return err
	}
	revs := map[int]int{}
	for rev, v := range st.traffic.Weights {
		if v > 0 {
			revs[rev] = v
		}
	}
	if err := r.ensureRevisionServices(ctx, st, revs); err != nil {
		return err
	}
	if err := r.applyPreview(ctx, st); err != nil {
		return err
	}
	if err := k.ensureIngress(ctx, r, st, ServiceName(app, env), main, nil); err != nil {
		return err
	}
	if canary == "" {
		canary, cw = main, 0
	}
	return k.ensureIngress(ctx, r, st, CanaryIngressName(app, env), canary, map[string]string{
		AnnotationCanary: "true", AnnotationCanaryWeight: strconv.Itoa(cw),
	})
}

func (nginxKind) ensureIngress(ctx context.Context, r *Router, st *envState, name, backend string, annotations map[string]string) error {
	app, env := st.e.App, st.e.Name
	rs := st.spec.Router
	if rs == nil || len(rs.Hostnames) == 0 {
		return fmt.Errorf("route %s/%s: the ingressNginx router needs kubernetes.router.hostnames in the spec", app, env)
	}
	class := rs.IngressClassName
	if class == "" {
		class = "nginx"
	}
	path := rs.Path
	if path == "" {
		path = "/"
	}
	prefix := networkingv1.PathTypePrefix
	want := networkingv1.IngressSpec{
		IngressClassName: &class,
		Rules: []networkingv1.IngressRule{{Host: rs.Hostnames[0], IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: &prefix, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: backend, Port: networkingv1.ServiceBackendPort{Number: int32(r.opts.Port)}},
			}}},
		}}}},
	}
	ings := r.opts.Cluster.Client.NetworkingV1().Ingresses(st.ns)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := ings.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			owner, err := kube.Owner(ctx, r.opts.Cluster, st.ns, app, env)
			if err != nil {
				return err
			}
			_, err = ings.Create(ctx, &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: st.ns, Labels: envSelector(app, env), Annotations: annotations,
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}},
				Spec: want,
			}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create Ingress %s/%s: %w", st.ns, name, err)
			}
			st.drift.add(rollout.DriftFact{Kind: "Ingress", Namespace: st.ns, Name: name, Recreated: true})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read Ingress %s/%s: %w", st.ns, name, err)
		}
		if cur.Labels[kube.LabelManagedBy] != kube.ManagedBy {
			return fmt.Errorf("Ingress %s/%s exists and was not created by gantry (no %s=%s label); gantry leaves it alone: rename or delete it", st.ns, name, kube.LabelManagedBy, kube.ManagedBy)
		}
		if st.keep {
			return nil
		}
		changed := ingressDiff(cur, want, annotations)
		if len(changed) == 0 {
			return nil
		}
		for _, f := range changed {
			st.drift.add(rollout.DriftFact{Kind: "Ingress", Namespace: st.ns, Name: name, Field: f.field, Was: f.was, Now: f.want})
		}
		cur.Spec = want
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		maps.Copy(cur.Annotations, annotations)
		if _, err := ings.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update Ingress %s/%s: %w", st.ns, name, err)
		}
		return nil
	})
}

// ingressDiff compares what gantry sets of an Ingress: its class, its
// rules (host, path, backend) and the annotations gantry writes.
func ingressDiff(cur *networkingv1.Ingress, want networkingv1.IngressSpec, annotations map[string]string) []fieldDiff {
	var out []fieldDiff
	if a, b := deref(cur.Spec.IngressClassName), deref(want.IngressClassName); a != b {
		out = append(out, fieldDiff{"spec.ingressClassName", a, b})
	}
	if a, b := ingressRules(cur.Spec), ingressRules(want); a != b {
		out = append(out, fieldDiff{"spec.rules", a, b})
	}
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		if v, ok := cur.Annotations[k]; !ok || v != annotations[k] {
			was := strconv.Quote(v)
			if !ok {
				was = "unset"
			}
			out = append(out, fieldDiff{"metadata.annotations[" + k + "]", was, strconv.Quote(annotations[k])})
		}
	}
	return out
}

// ingressRules renders an Ingress's rules as host path → Service:port.
func ingressRules(s networkingv1.IngressSpec) string {
	var parts []string
	for _, rule := range s.Rules {
		if rule.HTTP == nil {
			parts = append(parts, rule.Host)
			continue
		}
		for _, p := range rule.HTTP.Paths {
			b := "no Service"
			if svc := p.Backend.Service; svc != nil {
				b = fmt.Sprintf("%s:%d%s", svc.Name, svc.Port.Number, svc.Port.Name)
			}
			parts = append(parts, fmt.Sprintf("%s%s %s → %s", rule.Host, p.Path, deref(p.PathType), b))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// adopt reads the backends of the main and canary Ingresses and the
// canary's weight.
func (nginxKind) adopt(ctx context.Context, r *Router, st *envState) error {
	ings := r.opts.Cluster.Client.NetworkingV1().Ingresses(st.ns)
	main, err := ings.Get(ctx, ServiceName(st.e.App, st.e.Name), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || !ours(&main.ObjectMeta) {
		return err
	}
	w := map[string]int{}
	cw := 0
	canary, err := ings.Get(ctx, CanaryIngressName(st.e.App, st.e.Name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	case ours(&canary.ObjectMeta):
		if b := ingressBackend(canary); b != "" {
			cw, _ = strconv.Atoi(canary.Annotations[AnnotationCanaryWeight])
			w[b] += cw
		}
	}
	if b := ingressBackend(main); b != "" {
		w[b] += 100 - cw
	}
	return adoptBackends(ctx, r, st, w)
}

// ingressBackend returns the Service an Ingress of gantry's sends to.
func ingressBackend(ing *networkingv1.Ingress) string {
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP != nil && len(rule.HTTP.Paths) > 0 && rule.HTTP.Paths[0].Backend.Service != nil {
			return rule.HTTP.Paths[0].Backend.Service.Name
		}
	}
	return ""
}

func (k nginxKind) shares(st *envState) map[int]float64 {
	if st.traffic.Weights == nil {
		return serviceKind{}.shares(st)
	}
	return percent(weights(st))
}
