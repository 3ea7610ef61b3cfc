package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/k8stestenv"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// runKubeServer runs a server on dataDir with the kubernetes backend
// acting through kubeconfig; stop ends it and fails the test if Run
// returned an error.
func runKubeServer(t *testing.T, dataDir, kubeconfig, ns string) (c *client.Client, stop func()) {
	t.Helper()
	s, err := server.New(context.Background(), server.Options{
		DataDir: dataDir, APIAddr: "127.0.0.1:0", Interval: 100 * time.Millisecond, Logf: t.Logf, Token: testToken,
		Kubernetes: &server.KubernetesOptions{Kubeconfig: kubeconfig, Namespace: ns},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	c, err = client.New(client.Options{Server: s.APIURL(), Actor: "test", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}
	t.Cleanup(stop)
	return c, stop
}

// TestServer_LeadWithARefusedRouter: a server taking the lead whose
// stored app's router now fails its checks (the Role lost the HTTPRoute
// rule, as when the Gateway API CRDs are removed) still leads: that
// environment gets a Warning RouterUnavailable event and its deploys are
// refused with the reason, another app deploys; once the rule is back the
// environment is routed again and deploys.
func TestServer_LeadWithARefusedRouter(t *testing.T) {
	kenv := k8stestenv.Require(t)
	ns := kenv.Namespace(t, "gantry-lead")
	kubeconfig := gantryKubeconfig(t, kenv, ns)
	dataDir := t.TempDir()
	ctx := context.Background()
	web := strings.ReplaceAll(kubeWebSpec, "NAMESPACE", ns)
	shop := strings.ReplaceAll(strings.ReplaceAll(web, "{name: web}", "{name: shop}"),
		"router: {type: gatewayAPI, gateway: {name: public}, hostnames: [web.example.com]}", "router: {type: service}")
	c, stop := runKubeServer(t, dataDir, kubeconfig, ns)
	for _, s := range []string{web, shop} {
		if _, err := c.Apply(ctx, "gantry.yaml", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	stop()

	roles := kenv.Client.RbacV1().Roles(ns)
	role, err := roles.Get(ctx, "gantry", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full := slices.Clone(role.Rules)
	role.Rules = slices.DeleteFunc(slices.Clone(role.Rules), func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, "httproutes") })
	if role, err = roles.Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	c, _ = runKubeServer(t, dataDir, kubeconfig, ns)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if e := waitEventAfter(wctx, t, c, rollout.ReasonRouterUnavailable, 0); e.Type != rollout.Warning || !strings.Contains(e.Message, "httproutes") {
		t.Errorf("RouterUnavailable event: %s %q; want a Warning naming the missing httproutes permission", e.Type, e.Message)
	}
	if _, err := c.Deploy(ctx, "web", "prod", "v1"); err == nil || !strings.Contains(err.Error(), "wait for its router") || !strings.Contains(err.Error(), "httproutes") {
		t.Fatalf("deploy web while its router refuses it: %v; want it refused, naming the router's missing permission", err)
	}
	s, err := c.Deploy(ctx, "shop", "prod", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.WaitRollout(wctx, s.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("shop's rollout beside the refused web: %s %s (%v); want Succeeded", r.Phase, r.Message, err)
	}

	role.Rules = full
	if _, err := roles.Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The server opens web again at most every 5 s.
	var w rollout.Rollout
	for w, err = c.Deploy(ctx, "web", "prod", "v1"); err != nil; w, err = c.Deploy(ctx, "web", "prod", "v1") {
		if wctx.Err() != nil {
			t.Fatalf("web not deployable once the Role is whole again: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r, err := c.WaitRollout(wctx, w.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("web's rollout once the Role is whole again: %s %s (%v); want Succeeded", r.Phase, r.Message, err)
	}
}
