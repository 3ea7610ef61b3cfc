// Package objectroutertest is the conformance suite of the routers that
// route by writing Kubernetes objects (router/kuberouter): they have no
// listener to send requests to, so the suite reads back what the router
// wrote (Services, HTTPRoutes, Ingresses) with the pods it made, and
// computes the split a conforming data plane applies (Objects.Split, a
// small interpreter of the Service, Gateway API and ingress-nginx
// documented semantics). It asserts what router/routertest asserts of the
// proxy: weights set, shifted step by step and pinned to one revision; a
// rolling update spread over ready pods; a blue-green switch that no
// object write leaves half-done; idempotent re-application; a revision
// removed; maintenance; a restarted router keeping what it finds; objects
// edited by hand set back and told; and
// Stats saying what the data plane gives. Routers run it from their own
// tests against a real control plane:
//
//	func TestConformance(t *testing.T) {
//		objectroutertest.Run(t, func(t *testing.T) objectroutertest.Harness { ... })
//	}
package objectroutertest

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// Harness is one router under test, in a namespace of its own.
type Harness struct {
	// Router is the router under test, with no environment open, routing
	// every environment in Namespace.
	Router router.Router
	// Restart closes Router and returns a new one over the same cluster
	// and specs (a restarted gantry, or a new leader).
	Restart func() router.Router
	// Client and Gateway read the cluster (as its administrator).
	Client  kubernetes.Interface
	Gateway gatewayclient.Interface
	// Namespace is where the router writes; the suite makes its pods there.
	Namespace string
	// Node is the node the suite's pods are bound to (the test control
	// plane's kwok node, which marks them Running and Ready).
	Node string
	// Entry is where requests enter; its Service is filled from Addr.
	Entry Entry
	// ExactWeights: the router gives a split exactly the weights asked;
	// false (a Service router): the split follows the ready pods of the
	// revisions with weight, and Stats must say so.
	ExactWeights bool
	// TwoRevisions: the router splits between two revisions at most
	// (ingress-nginx), so the suite never asks for three.
	TwoRevisions bool
	// Events returns the events the router has told so far (Warning
	// DriftCorrected among them); nil: the drift case is skipped. The
	// router must read its objects back often (well under Timeout).
	Events func() []rollout.Event
	// Timeout bounds each wait for the cluster to reach a state. Zero: 1 minute.
	Timeout time.Duration
}

// app and env name the environment every case routes.
const app, env = "web", "prod"

// Run runs the suite. newHarness is called once per case.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		test func(t *testing.T, s *suite)
	}{
		{"Weights", testWeights},
		{"ShiftStepByStep", testShift},
		{"RollingUpdate", testRolling},
		{"BlueGreenSwitchAtomic", testBlueGreen},
		{"Idempotent", testIdempotent},
		{"RemovedRevision", testRemoved},
		{"Maintenance", testMaintenance},
		{"RestartKeepsWhatItFinds", testRestart},
		{"DriftCorrected", testDrift},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Timeout == 0 {
				h.Timeout = time.Minute
			}
			tt.test(t, &suite{t: t, h: h, r: h.Router})
		})
	}
}

// suite is one case's state: the harness, the router now under test and
// the pods made.
type suite struct {
	t    *testing.T
	h    Harness
	r    router.Router
	pods []corev1.Pod
}

// open opens the environment (with a preview when asked).
func (s *suite) open(preview bool) {
	s.t.Helper()
	if err := s.r.Open(router.Environment{App: app, Name: env, Preview: preview}); err != nil {
		s.t.Fatalf("Open: %v", err)
	}
}

// addPods makes n pods of revision rev, waits until they are ready, and
// gives the router every pod as instances.
func (s *suite) addPods(rev, n int) {
	s.t.Helper()
	ctx := context.Background()
	pods := s.h.Client.CoreV1().Pods(s.h.Namespace)
	var names []string
	for range n {
		p, err := pods.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: fmt.Sprintf("%s-%s-%d-", app, env, rev), Labels: map[string]string{
				kube.LabelManagedBy: kube.ManagedBy, kube.LabelApp: app, kube.LabelEnv: env, kube.LabelRevision: strconv.Itoa(rev)}},
			Spec: corev1.PodSpec{NodeName: s.h.Node, Containers: []corev1.Container{{Name: kube.ContainerName, Image: "gantry-sample:v" + strconv.Itoa(rev),
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		}, metav1.CreateOptions{})
		if err != nil {
			s.t.Fatalf("create a pod of revision %d: %v", rev, err)
		}
		names = append(names, p.Name)
	}
	for _, name := range names {
		s.waitFor("pod "+name+" ready", func() (bool, string) {
			p, err := pods.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if !podReady(p) {
				return false, fmt.Sprintf("%s %v", p.Status.Phase, p.Status.Conditions)
			}
			s.pods = append(s.pods, *p)
			return true, ""
		})
	}
	s.setInstances()
}

// setInstances gives the router the pods made as instances.
func (s *suite) setInstances() {
	s.t.Helper()
	var ins []rollout.Instance
	for _, p := range s.pods {
		rev, _ := strconv.Atoi(p.Labels[kube.LabelRevision])
		ins = append(ins, rollout.Instance{ID: p.Name, App: app, Env: env, Revision: rev, Version: "v" + strconv.Itoa(rev),
			State: rollout.Running, Ready: true, Addr: p.Status.PodIP + ":8080"})
	}
	if err := s.r.SetInstances(app, env, ins); err != nil {
		s.t.Fatalf("SetInstances: %v", err)
	}
}

func (s *suite) setTraffic(tr rollout.Traffic) {
	s.t.Helper()
	if err := s.r.SetTraffic(app, env, tr); err != nil {
		s.t.Fatalf("SetTraffic(%+v): %v", tr, err)
	}
}

// read takes a snapshot of the namespace's objects.
func (s *suite) read() (Objects, error) {
	ctx := context.Background()
	ns := s.h.Namespace
	o := Objects{Namespace: ns, Services: map[string]*corev1.Service{}}
	svcs, err := s.h.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return o, err
	}
	for i := range svcs.Items {
		o.Services[svcs.Items[i].Name] = &svcs.Items[i]
	}
	if o.Routes, err = listRoutes(ctx, s.h.Gateway, ns); err != nil {
		return o, err
	}
	if o.Ingresses, err = listIngresses(ctx, s.h.Client, ns); err != nil {
		return o, err
	}
	pods, err := s.h.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return o, err
	}
	o.Pods = pods.Items
	return o, nil
}

// entry is where the main traffic enters; preview: the preview Service.
func (s *suite) entry(preview bool) Entry {
	e := s.h.Entry
	if preview {
		return Entry{DataPlane: KubeProxy, Service: serviceOf(s.r.PreviewAddr(app, env))}
	}
	if e.DataPlane == KubeProxy {
		e.Service = serviceOf(s.r.Addr(app, env))
	}
	return e
}

// serviceOf returns the Service name of an in-cluster address
// ("name.namespace.svc:port").
func serviceOf(addr string) string {
	for i := range len(addr) {
		if addr[i] == '.' || addr[i] == ':' {
			return addr[:i]
		}
	}
	return addr
}

// waitSplit waits until the objects give want at the main entry (preview:
// the preview Service), and Stats says the same.
func (s *suite) waitSplit(what string, preview bool, want Split) {
	s.t.Helper()
	s.waitFor(what+": "+want.String(), func() (bool, string) {
		o, err := s.read()
		if err != nil {
			return false, err.Error()
		}
		got, err := o.Split(s.entry(preview))
		if err != nil {
			return false, err.Error()
		}
		return got.near(want), "the objects give " + got.String()
	})
	if !preview {
		s.checkStats(want)
	}
}

// checkStats: the router's Stats report the share each revision gets.
func (s *suite) checkStats(want Split) {
	s.t.Helper()
	got := Split{}
	for _, st := range s.r.Stats(app, env) {
		if st.Weight > 0 {
			got[st.Revision] = st.Weight
		}
	}
	served := maps.Clone(want)
	delete(served, 0)
	if !got.near(served) {
		s.t.Errorf("Stats say %s; the data plane gives %s", got, want)
	}
}

// asked is the split a router gives for weights w: w itself when the
// router weights exactly, else the ready pods' ratio among the weighted
// revisions.
func (s *suite) asked(w map[int]int) Split {
	if s.h.ExactWeights {
		out := Split{}
		for rev, v := range w {
			if v > 0 {
				out[rev] = float64(v)
			}
		}
		return out
	}
	n := map[int]int{}
	total := 0
	for _, p := range s.pods {
		rev, _ := strconv.Atoi(p.Labels[kube.LabelRevision])
		if w[rev] > 0 {
			n[rev]++
			total++
		}
	}
	out := Split{}
	for rev, c := range n {
		out[rev] = 100 * float64(c) / float64(total)
	}
	return out
}

func (s *suite) waitFor(what string, cond func() (bool, string)) {
	s.t.Helper()
	deadline := time.Now().Add(s.h.Timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after %s still waiting for %s; now: %s", s.h.Timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
