package objectroutertest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

func listRoutes(ctx context.Context, gc gatewayclient.Interface, ns string) (map[string]*gatewayv1.HTTPRoute, error) {
	out := map[string]*gatewayv1.HTTPRoute{}
	list, err := gc.GatewayV1().HTTPRoutes(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}

func listIngresses(ctx context.Context, c kubernetes.Interface, ns string) (map[string]*networkingv1.Ingress, error) {
	out := map[string]*networkingv1.Ingress{}
	list, err := c.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}

// writes records every write to the namespace's Services, HTTPRoutes and
// Ingresses from a snapshot on, so that the state between two writes can
// be rebuilt: the API server orders writes by resourceVersion (etcd's
// revision, one counter for the whole cluster).
type writes struct {
	start Objects
	mu    sync.Mutex
	list  []write
	stop  func()
}

type write struct {
	rv    uint64
	typ   watch.EventType
	obj   runtime.Object
	label string
}

// record takes a snapshot and watches from it.
func (s *suite) record() *writes {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &writes{stop: cancel}
	o, err := s.read()
	if err != nil {
		s.t.Fatal(err)
	}
	w.start = o
	ns := s.h.Namespace
	// One List per kind gives the resourceVersion to watch from.
	svcs, err := s.h.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	routes, err := s.h.Gateway.GatewayV1().HTTPRoutes(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	ings, err := s.h.Client.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	// The snapshot the replay starts from is these lists (taken after read).
	w.start.Services, w.start.Routes, w.start.Ingresses = map[string]*corev1.Service{}, map[string]*gatewayv1.HTTPRoute{}, map[string]*networkingv1.Ingress{}
	for i := range svcs.Items {
		w.start.Services[svcs.Items[i].Name] = &svcs.Items[i]
	}
	for i := range routes.Items {
		w.start.Routes[routes.Items[i].Name] = &routes.Items[i]
	}
	for i := range ings.Items {
		w.start.Ingresses[ings.Items[i].Name] = &ings.Items[i]
	}
	watches := []func() (watch.Interface, error){
		func() (watch.Interface, error) {
			return s.h.Client.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: svcs.ResourceVersion})
		},
		func() (watch.Interface, error) {
			return s.h.Gateway.GatewayV1().HTTPRoutes(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: routes.ResourceVersion})
		},
		func() (watch.Interface, error) {
			return s.h.Client.NetworkingV1().Ingresses(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: ings.ResourceVersion})
		},
	}
	for _, open := range watches {
		wi, err := open()
		if err != nil {
			s.t.Fatal(err)
		}
		go func() {
			defer wi.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-wi.ResultChan():
					if !ok {
						return
					}
					m, err := metaOf(ev.Object)
					if err != nil {
						continue
					}
					rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
					w.mu.Lock()
					w.list = append(w.list, write{rv: rv, typ: ev.Type, obj: ev.Object,
						label: fmt.Sprintf("%s %T %s rv %d", ev.Type, ev.Object, m.GetName(), rv)})
					w.mu.Unlock()
				}
			}
		}()
	}
	s.t.Cleanup(cancel)
	return w
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	switch o := obj.(type) {
	case *corev1.Service:
		return o, nil
	case *gatewayv1.HTTPRoute:
		return o, nil
	case *networkingv1.Ingress:
		return o, nil
	}
	return nil, fmt.Errorf("unexpected %T", obj)
}

// states waits until the writes recorded reach the objects as they are
// now, stops, and returns the objects after each write, in order.
func (w *writes) states(s *suite) ([]Objects, []string) {
	s.t.Helper()
	final, err := s.read()
	if err != nil {
		s.t.Fatal(err)
	}
	var list []write
	s.waitFor("the watches to see every write", func() (bool, string) {
		w.mu.Lock()
		list = slices.Clone(w.list)
		w.mu.Unlock()
		slices.SortStableFunc(list, func(a, b write) int { return cmpU(a.rv, b.rv) })
		last := replay(w.start, list)
		return sameVersions(last, final), fmt.Sprintf("%d writes seen", len(list))
	})
	w.stop()
	var out []Objects
	var labels []string
	for i := range list {
		out = append(out, replay(w.start, list[:i+1]))
		labels = append(labels, list[i].label)
	}
	return out, labels
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// replay applies writes, in resourceVersion order, to a copy of start.
func replay(start Objects, list []write) Objects {
	o := start
	o.Services, o.Routes, o.Ingresses = clone(start.Services), clone(start.Routes), clone(start.Ingresses)
	for _, wr := range list {
		switch obj := wr.obj.(type) {
		case *corev1.Service:
			apply(o.Services, obj.Name, obj, wr.typ)
		case *gatewayv1.HTTPRoute:
			apply(o.Routes, obj.Name, obj, wr.typ)
		case *networkingv1.Ingress:
			apply(o.Ingresses, obj.Name, obj, wr.typ)
		}
	}
	return o
}

func clone[T any](m map[string]*T) map[string]*T {
	out := make(map[string]*T, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func apply[T any](m map[string]*T, name string, obj *T, typ watch.EventType) {
	if typ == watch.Deleted {
		delete(m, name)
		return
	}
	m[name] = obj
}

// sameVersions: a and b hold the same objects at the same resourceVersions.
func sameVersions(a, b Objects) bool {
	return versions(a.Services) == versions(b.Services) && versions(a.Routes) == versions(b.Routes) && versions(a.Ingresses) == versions(b.Ingresses)
}

func versions[T any](m map[string]*T) string {
	var parts []string
	for name, v := range m {
		if mo, ok := any(v).(metav1.Object); ok {
			parts = append(parts, name+"@"+mo.GetResourceVersion())
		}
	}
	slices.Sort(parts)
	return fmt.Sprint(parts)
}
