// Package deploy_test checks what deploy/ ships: the Helm chart renders
// with helm v3.22.0 (built from the Go module proxy) into objects that
// the test control plane accepts and runs, with the same Role as
// kubernetes/rbac.yaml; the plain manifests apply too.
package deploy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gantry-dev/gantry/internal/k8stestenv"
)

const helmModule = "helm.sh/helm/v3/cmd/helm@v3.22.0"

// helm builds helm from the Go module proxy, or skips the test saying why.
func helm(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "install", helmModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build %s (is the Go module proxy reachable?): %v\n%s", helmModule, err, out)
	}
	return filepath.Join(dir, "helm")
}

func TestHelmChart(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-chart")
	bin := helm(t)
	render := exec.Command(bin, "template", "gantry", "helm/gantry", "--namespace", ns,
		"--set", "environmentNamespaces={"+ns+"}", "--set", "image.tag=v1.2.3")
	out, err := render.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	path := filepath.Join(t.TempDir(), "rendered.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	objs := k8stestenv.ReadManifests(t, path)
	want := k8stestenv.ReadManifests(t, "kubernetes/rbac.yaml")[0].(*rbacv1.Role)
	ctx := context.Background()
	if _, err := env.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "gantry-database"},
		StringData: map[string]string{"url": "postgres://gantry@db:5432/gantry"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, obj := range objs {
		kinds[fmt.Sprintf("%T", obj)]++
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			_, err = env.Client.CoreV1().ServiceAccounts(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			if !reflect.DeepEqual(o.Rules, want.Rules) {
				t.Errorf("the chart's Role rules differ from kubernetes/rbac.yaml's:\n%+v\n%+v", o.Rules, want.Rules)
			}
			_, err = env.Client.RbacV1().Roles(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = env.Client.RbacV1().RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
		case *appsv1.Deployment:
			c := o.Spec.Template.Spec.Containers[0]
			if c.Image != "ghcr.io/gantry-dev/gantry:v1.2.3" || !strings.Contains(strings.Join(c.Args, " "), "--kubernetes") || *o.Spec.Replicas != 2 {
				t.Errorf("Deployment: image %q args %q replicas %d", c.Image, c.Args, *o.Spec.Replicas)
			}
			if sc := o.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				t.Errorf("Deployment pod security context %+v, want runAsNonRoot", sc)
			}
			o.Spec.Template.Annotations = map[string]string{"kwok.x-k8s.io/status": "custom"} // nothing to run: kwok's fake node
			_, err = env.Client.AppsV1().Deployments(ns).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Service:
			_, err = env.Client.CoreV1().Services(ns).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Errorf("the chart renders a %T", obj)
		}
		if err != nil {
			t.Fatalf("apply %T: %v", obj, err)
		}
	}
	for _, k := range []string{"*v1.ServiceAccount", "*v1.Role", "*v1.RoleBinding", "*v1.Deployment", "*v1.Service"} {
		if kinds[k] != 1 {
			t.Errorf("the chart renders %d %s, want 1 (all: %v)", kinds[k], k, kinds)
		}
	}
	// kube-controller-manager starts the Deployment: its ReplicaSet asks for 2 pods.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := env.Client.AppsV1().Deployments(ns).Get(ctx, "gantry", metav1.GetOptions{})
		if err == nil && d.Status.Replicas == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gantry's Deployment did not start its 2 pods: %+v %v", d.Status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
