package objectroutertest

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
)

// testDrift: an object the router wrote, changed by hand where the split
// lives (a Service's selector, an HTTPRoute's weights, the canary
// Ingress's canary-weight), is set back, and a Warning DriftCorrected
// event names the object and the field; an object gantry did not create
// is never touched.
func testDrift(t *testing.T, s *suite) {
	if s.h.Events == nil {
		t.Skip("the harness collects no events")
	}
	s.canaryAt(20)
	ctx := context.Background()
	foreign, err := s.h.Client.CoreV1().Services(s.h.Namespace).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web-by-hand"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{kube.LabelApp: app, kube.LabelRevision: "1"},
			Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	object, field := s.editByHand()
	s.waitFor(fmt.Sprintf("a DriftCorrected event naming %s and %s", object, field), func() (bool, string) {
		var seen []string
		for _, e := range s.h.Events() {
			if e.Reason != rollout.ReasonDriftCorrected {
				continue
			}
			if e.Type == rollout.Warning && e.Details != nil {
				for _, f := range e.Details.Drift {
					if f.Namespace+"/"+f.Name == object && f.Field == field && f.Was != f.Now && f.Now != "" {
						return true, ""
					}
				}
			}
			seen = append(seen, fmt.Sprintf("%s %+v", e.Type, e.Details))
		}
		return false, fmt.Sprintf("%q", seen)
	})
	s.waitSplit("80/20 set back", false, s.asked(shift(20)))
	cur, err := s.h.Client.CoreV1().Services(s.h.Namespace).Get(ctx, foreign.Name, metav1.GetOptions{})
	if err != nil || cur.ResourceVersion != foreign.ResourceVersion {
		t.Errorf("the Service gantry did not create changed (resourceVersion %s, was %s; %v)", cur.ResourceVersion, foreign.ResourceVersion, err)
	}
}

// editByHand changes, as a user would with kubectl, the object field that
// holds the split at the entry, and returns the object's namespace/name
// and the field's name as the event must say them.
func (s *suite) editByHand() (object, field string) {
	s.t.Helper()
	ctx := context.Background()
	ns := s.h.Namespace
	var err error
	switch s.h.Entry.DataPlane {
	case KubeProxy:
		name := s.entry(false).Service
		object, field = ns+"/"+name, "spec.selector"
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			svc, err := s.h.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			svc.Spec.Selector[kube.LabelRevision] = "1"
			_, err = s.h.Client.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{})
			return err
		})
	case GatewayAPI:
		o := s.snapshot()
		if len(o.Routes) != 1 {
			s.t.Fatalf("%d HTTPRoutes in the namespace, want the router's one", len(o.Routes))
		}
		for name := range o.Routes {
			object, field = ns+"/"+name, "spec.rules[].backendRefs"
			err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				r, err := s.h.Gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				for i := range r.Spec.Rules[0].BackendRefs {
					w := int32(50)
					r.Spec.Rules[0].BackendRefs[i].Weight = &w
				}
				_, err = s.h.Gateway.GatewayV1().HTTPRoutes(ns).Update(ctx, r, metav1.UpdateOptions{})
				return err
			})
		}
	case IngressNginx:
		o := s.snapshot()
		for name, ing := range o.Ingresses {
			if ing.Annotations[annCanary] != "true" {
				continue
			}
			object, field = ns+"/"+name, "metadata.annotations["+annCanaryWeight+"]"
			err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				ing, err := s.h.Client.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				ing.Annotations[annCanaryWeight] = "50"
				_, err = s.h.Client.NetworkingV1().Ingresses(ns).Update(ctx, ing, metav1.UpdateOptions{})
				return err
			})
		}
	}
	if err != nil {
		s.t.Fatalf("edit %s by hand: %v", object, err)
	}
	if object == "" {
		s.t.Fatal("found no object to edit")
	}
	return object, field
}
