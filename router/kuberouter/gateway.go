package kuberouter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// NewGateway returns the Gateway API router: an HTTPRoute per environment
// (named like its Service) attached to the spec's Gateway, whose
// backendRefs weight one Service per revision exactly as the strategy
// asks; without weights (a rolling update) its one backend is the
// environment's Service over every revision, which follows the ready pods.
func NewGateway(o Options) (*Router, error) {
	if o.Cluster == nil {
		return newRouter(o, nil)
	}
	gc, err := gatewayclient.NewForConfig(o.Cluster.REST)
	if err != nil {
		return nil, fmt.Errorf("gateway API client: %w", err)
	}
	return newRouter(o, gatewayKind{client: gc})
}

type gatewayKind struct{ client gatewayclient.Interface }

var gatewayPermissions = []kube.Permission{
	{Group: gatewayv1.GroupName, Resource: "httproutes", Verbs: []string{"get", "create", "update"}},
}

// prepare checks that the cluster serves HTTPRoutes (the CRDs are
// installed) and that gantry may write them.
func (k gatewayKind) prepare(ctx context.Context, c *kube.Cluster, ns string) error {
	if err := servesResource(c, gatewayv1.GroupVersion.String(), "httproutes"); err != nil {
		return fmt.Errorf("%w; install the Gateway API CRDs: kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml", err)
	}
	return c.Check(ctx, ns, gatewayPermissions)
}

// servesResource checks that the API server serves resource in groupVersion.
func servesResource(c *kube.Cluster, groupVersion, resource string) error {
	list, err := c.Client.Discovery().ServerResourcesForGroupVersion(groupVersion)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w (are its CRDs installed?)", groupVersion, resource, c.Host, err)
	}
	for _, r := range list.APIResources {
		if r.Name == resource {
			return nil
		}
	}
	return fmt.Errorf("%s on %s has no %s (are its CRDs installed?)", groupVersion, c.Host, resource)
}

func (k gatewayKind) apply(ctx context.Context, r *Router, st *envState) error {
	app, env := st.e.App, st.e.Name
	// The environment's Service, over every revision (none in
	// maintenance), is the backend of a rolling update: it follows the
	// ready pods as they change.
	if err := r.ensureService(ctx, st, ServiceName(app, env), selector(app, env, rollout.Traffic{}, st.maintenance), st.keep); err != nil {
		return err
	}
	w := st.traffic.Weights
	if err := r.ensureRevisionServices(ctx, st, w); err != nil {
		return err
	}
	if err := r.applyPreview(ctx, st); err != nil {
		return err
	}
	rs := st.spec.Router
	if rs == nil || rs.Gateway == nil {
		return fmt.Errorf("route %s/%s: the gatewayAPI router needs kubernetes.router.gateway in the spec", app, env)
	}
	parent := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(rs.Gateway.Name)}
	if rs.Gateway.Namespace != "" {
		ns := gatewayv1.Namespace(rs.Gateway.Namespace)
		parent.Namespace = &ns
	}
	if rs.Gateway.SectionName != "" {
		sn := gatewayv1.SectionName(rs.Gateway.SectionName)
		parent.SectionName = &sn
	}
	var hosts []gatewayv1.Hostname
	for _, h := range rs.Hostnames {
		hosts = append(hosts, gatewayv1.Hostname(h))
	}
	path := rs.Path
	if path == "" {
		path = "/"
	}
	prefix := gatewayv1.PathMatchPathPrefix
	port := gatewayv1.PortNumber(r.opts.Port)
	refs := []gatewayv1.HTTPBackendRef{}
	if w == nil || st.maintenance {
		weight := int32(100)
		refs = append(refs, gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(ServiceName(app, env)), Port: &port},
			Weight:                 &weight,
		}})
		w = nil
	}
	for _, rev := range slices.Sorted(maps.Keys(w)) {
		weight := int32(w[rev])
		refs = append(refs, gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(RevisionServiceName(app, env, rev)), Port: &port},
			Weight:                 &weight,
		}})
	}
	want := gatewayv1.HTTPRouteSpec{
		CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}},
		Hostnames:       hosts,
		Rules: []gatewayv1.HTTPRouteRule{{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
			BackendRefs: refs,
		}},
	}
	routes := k.client.GatewayV1().HTTPRoutes(st.ns)
	name := ServiceName(app, env)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := routes.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			owner, err := kube.Owner(ctx, r.opts.Cluster, st.ns, app, env)
			if err != nil {
				return err
			}
			_, err = routes.Create(ctx, &gatewayv1.HTTPRoute{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: st.ns, Labels: envSelector(app, env),
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}},
				Spec: want,
			}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create HTTPRoute %s/%s: %w", st.ns, name, err)
			}
			st.drift.add(rollout.DriftFact{Kind: "HTTPRoute", Namespace: st.ns, Name: name, Recreated: true})
			return nil
		}
		if err != nil {
			return fmt.Errorf("read HTTPRoute %s/%s: %w", st.ns, name, err)
		}
		if cur.Labels[kube.LabelManagedBy] != kube.ManagedBy {
			return fmt.Errorf("HTTPRoute %s/%s exists and was not created by gantry (no %s=%s label); gantry leaves it alone: rename or delete it", st.ns, name, kube.LabelManagedBy, kube.ManagedBy)
		}
		if st.keep {
			return nil
		}
		changed := routeDiff(cur.Spec, want)
		if len(changed) == 0 {
			return nil
		}
		for _, f := range changed {
			st.drift.add(rollout.DriftFact{Kind: "HTTPRoute", Namespace: st.ns, Name: name, Field: f.field, Was: f.was, Now: f.want})
		}
		cur.Spec = want
		if _, err := routes.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("weight HTTPRoute %s/%s: %w", st.ns, name, err)
		}
		return nil
	})
}

// fieldDiff is one field of an object that differs from what gantry wants.
type fieldDiff struct{ field, was, want string }

// routeDiff compares the fields of an HTTPRoute gantry sets, as the API
// server keeps them (it fills defaults, such as a parentRef's group and
// kind, that gantry leaves empty).
func routeDiff(cur, want gatewayv1.HTTPRouteSpec) []fieldDiff {
	var out []fieldDiff
	check := func(field string, f func(gatewayv1.HTTPRouteSpec) string) {
		if a, b := f(cur), f(want); a != b {
			out = append(out, fieldDiff{field, a, b})
		}
	}
	check("spec.parentRefs", func(s gatewayv1.HTTPRouteSpec) string {
		var parts []string
		for _, p := range s.ParentRefs {
			parts = append(parts, fmt.Sprintf("%s/%s/%s", deref(p.Namespace), p.Name, deref(p.SectionName)))
		}
		return "[" + strings.Join(parts, " ") + "]"
	})
	check("spec.hostnames", func(s gatewayv1.HTTPRouteSpec) string { return fmt.Sprint(s.Hostnames) })
	check("spec.rules[].matches", func(s gatewayv1.HTTPRouteSpec) string {
		var parts []string
		for _, rule := range s.Rules {
			for _, m := range rule.Matches {
				if m.Path != nil {
					parts = append(parts, fmt.Sprintf("%s %s", deref(m.Path.Type), deref(m.Path.Value)))
				}
			}
		}
		return "[" + strings.Join(parts, " ") + "]"
	})
	check("spec.rules[].backendRefs", func(s gatewayv1.HTTPRouteSpec) string {
		var parts []string
		for _, rule := range s.Rules {
			for _, ref := range rule.BackendRefs {
				w := "1"
				if ref.Weight != nil {
					w = fmt.Sprint(*ref.Weight)
				}
				parts = append(parts, fmt.Sprintf("%s:%s weight %s", ref.Name, deref(ref.Port), w))
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	})
	return out
}

func deref[T any](p *T) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

// adopt reads the weights of the environment's HTTPRoute.
func (k gatewayKind) adopt(ctx context.Context, r *Router, st *envState) error {
	route, err := k.client.GatewayV1().HTTPRoutes(st.ns).Get(ctx, ServiceName(st.e.App, st.e.Name), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || !ours(&route.ObjectMeta) || len(route.Spec.Rules) != 1 {
		return err
	}
	w := map[string]int{}
	for _, ref := range route.Spec.Rules[0].BackendRefs {
		v := 1
		if ref.Weight != nil {
			v = int(*ref.Weight)
		}
		w[string(ref.Name)] += v
	}
	return adoptBackends(ctx, r, st, w)
}

func (gatewayKind) shares(st *envState) map[int]float64 {
	if st.traffic.Weights == nil || st.maintenance {
		return serviceKind{}.shares(st)
	}
	return percent(st.traffic.Weights)
}
