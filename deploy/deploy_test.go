// Package deploy_test checks what deploy/ ships against the Kubernetes
// test control plane (internal/k8stestenv): the Helm chart renders with
// helm v3.22.0 (built from the Go module proxy) and the plain manifests
// are read as they are; both apply (server-side apply, as the cluster
// administrator), the Deployment's pods are created, and the
// ServiceAccount gantry runs as holds every permission gantry checks for
// and nothing beyond the Role of kubernetes/rbac.yaml.
package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	kube "github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/internal/k8stestenv"
)

func TestHelmChart(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-chart")
	objs := readObjects(t, helmTemplate(t, ns,
		"--set", "environmentNamespaces={"+ns+"}", "--set", "image.tag=v1.2.3", "--set", "ingress.enabled=true"))
	kinds := byKind(objs)
	for _, k := range []string{"ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "Ingress"} {
		if len(kinds[k]) != 1 {
			t.Errorf("the chart renders %d %s, want 1", len(kinds[k]), k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	checkRole(t, kinds["Role"][0])
	var d appsv1.Deployment
	into(t, kinds["Deployment"][0], &d)
	checkDeployment(t, &d, "ghcr.io/gantry-dev/gantry:v1.2.3")
	createDatabaseSecret(t, env, ns)
	apply(t, env.Admin, objs)
	waitPods(t, env, ns, d.Name, 2)
	checkServiceAccount(t, env, ns, ns, d.Spec.Template.Spec.ServiceAccountName)
	if slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Args, func(a string) bool { return strings.HasPrefix(a, "--dashboard-key-file") }) {
		t.Error("without dashboard.keySecret the chart passes --dashboard-key-file")
	}

	t.Run("a dashboard key shared by the replicas", func(t *testing.T) {
		var d appsv1.Deployment
		into(t, byKind(readObjects(t, helmTemplate(t, ns, "--set", "dashboard.keySecret.name=gantry-dashboard")))["Deployment"][0], &d)
		spec := d.Spec.Template.Spec
		if !slices.Contains(spec.Containers[0].Args, "--dashboard-key-file=/etc/gantry/dashboard/key") {
			t.Errorf("args %q, want --dashboard-key-file=/etc/gantry/dashboard/key", spec.Containers[0].Args)
		}
		mounted := slices.ContainsFunc(spec.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == "dashboard-key" && m.MountPath == "/etc/gantry/dashboard" && m.ReadOnly
		})
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == "dashboard-key" })
		if !mounted || i < 0 || spec.Volumes[i].Secret == nil || spec.Volumes[i].Secret.SecretName != "gantry-dashboard" ||
			spec.Volumes[i].Secret.DefaultMode == nil || *spec.Volumes[i].Secret.DefaultMode != 0o440 {
			t.Errorf("volumes %+v, mounts %+v; want Secret gantry-dashboard (mode 0440, readable by the pod's group) mounted read-only at /etc/gantry/dashboard",
				spec.Volumes, spec.Containers[0].VolumeMounts)
		}
	})
}

func TestManifests(t *testing.T) {
	env := k8stestenv.Require(t)
	ns := env.Namespace(t, "gantry-manifests")
	objs := readObjects(t, "kubernetes/gantry.yaml")
	var kept []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			continue // the test's own namespace stands in for namespace gantry
		}
		if o.GetNamespace() != "gantry" {
			t.Errorf("gantry.yaml: %s %s is in namespace %q, want gantry", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		o.SetNamespace(ns)
		kept = append(kept, o)
	}
	rbac := readObjects(t, "kubernetes/rbac.yaml")
	for _, o := range rbac {
		o.SetNamespace(ns)
		if o.GetKind() == "RoleBinding" {
			subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
			for _, s := range subjects {
				s.(map[string]any)["namespace"] = ns
			}
			if err := unstructured.SetNestedSlice(o.Object, subjects, "subjects"); err != nil {
				t.Fatal(err)
			}
		}
	}
	kinds := byKind(kept)
	if len(kinds["Deployment"]) != 1 || len(kinds["ServiceAccount"]) != 1 || len(kinds["Service"]) != 1 {
		t.Fatalf("gantry.yaml holds %d Deployments, %d ServiceAccounts, %d Services; want one of each",
			len(kinds["Deployment"]), len(kinds["ServiceAccount"]), len(kinds["Service"]))
	}
	var d appsv1.Deployment
	into(t, kinds["Deployment"][0], &d)
	checkDeployment(t, &d, "ghcr.io/gantry-dev/gantry:dev")
	createDatabaseSecret(t, env, ns)
	apply(t, env.Admin, append(kept, rbac...))
	waitPods(t, env, ns, d.Name, 2)
	checkServiceAccount(t, env, ns, ns, d.Spec.Template.Spec.ServiceAccountName)
}

// checkRole compares a rendered Role with kubernetes/rbac.yaml's.
func checkRole(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	var got rbacv1.Role
	into(t, o, &got)
	var want rbacv1.Role
	into(t, readObjects(t, "kubernetes/rbac.yaml")[0], &want)
	if !equality.Semantic.DeepEqual(got.Rules, want.Rules) {
		t.Errorf("the chart's Role rules differ from kubernetes/rbac.yaml's:\n got %+v\nwant %+v", got.Rules, want.Rules)
	}
}

// checkDeployment checks what makes gantry run in the cluster: two
// servers on PostgreSQL (the URL from a Secret), each advertising its pod
// address to the other, the kubernetes backend, non-root, the plan's
// resources.
func checkDeployment(t *testing.T, d *appsv1.Deployment, image string) {
	t.Helper()
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment replicas %v, want 2 (HA on PostgreSQL)", d.Spec.Replicas)
	}
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	if c.Image != image {
		t.Errorf("image %q, want %q", c.Image, image)
	}
	for _, arg := range []string{"--kubernetes", "--database=$(GANTRY_DATABASE_URL)", "--advertise=http://$(POD_IP):7070", "--listen=:7070"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %q lack %s", c.Args, arg)
		}
	}
	if slices.Contains(c.Args, "server") || len(c.Command) > 0 {
		t.Errorf("command %q args %q: the image's entrypoint is already `gantry server`", c.Command, c.Args)
	}
	envs := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		envs[e.Name] = e
	}
	if r := envs["GANTRY_DATABASE_URL"].ValueFrom; r == nil || r.SecretKeyRef == nil || r.SecretKeyRef.Name != "gantry-database" || r.SecretKeyRef.Key != "url" {
		t.Errorf("GANTRY_DATABASE_URL: %+v, want from Secret gantry-database key url", envs["GANTRY_DATABASE_URL"])
	}
	if r := envs["POD_IP"].ValueFrom; r == nil || r.FieldRef == nil || r.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("POD_IP: %+v, want the pod's IP", envs["POD_IP"])
	}
	for name, want := range map[string]string{"requests.memory": "256Mi", "requests.cpu": "250m", "limits.memory": "512Mi", "limits.cpu": "500m"} {
		list := c.Resources.Requests
		if strings.HasPrefix(name, "limits") {
			list = c.Resources.Limits
		}
		q := list[corev1.ResourceName(name[strings.Index(name, ".")+1:])]
		if q.String() != want {
			t.Errorf("resources %s = %s, want %s", name, q.String(), want)
		}
	}
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
		t.Errorf("pod security context %+v, want runAsNonRoot as 65532 (the image's user)", sc)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/ready" {
		t.Errorf("readiness probe %+v, want GET /ready", c.ReadinessProbe)
	}
}

func createDatabaseSecret(t *testing.T, env *k8stestenv.Env, ns string) {
	t.Helper()
	if _, err := env.Client.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "gantry-database"},
		StringData: map[string]string{"url": "postgres://gantry@db:5432/gantry"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitPods waits until kube-controller-manager has created the
// Deployment's ReplicaSet and its n pods (kwok runs them on its fake node).
func waitPods(t *testing.T, env *k8stestenv.Env, ns, name string, n int32) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d, err := env.Client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && d.Status.Replicas == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Deployment %s/%s did not start its %d pods: %+v %v", ns, name, n, d.Status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkServiceAccount connects as the ServiceAccount gantry runs as and
// checks, with SelfSubjectAccessReview as gantry does at start, that it
// holds every permission the backend needs in envNS, and that it holds
// no more than the Role: no Secrets, nothing cluster-wide.
func checkServiceAccount(t *testing.T, env *k8stestenv.Env, ns, envNS, sa string) {
	t.Helper()
	cfg := rest.CopyConfig(env.Admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + sa}
	ctx := context.Background()
	c, err := kube.Connect(ctx, kube.Config{REST: cfg, Namespace: envNS})
	if err != nil {
		t.Fatal(err)
	}
	for _, perms := range kube.AllPermissions {
		if err := c.Check(ctx, envNS, perms); err != nil {
			t.Errorf("as %s: %v", sa, err)
		}
	}
	for _, p := range []kube.Permission{
		{Resource: "secrets", Verbs: []string{"get", "list"}},
		{Group: "apps", Resource: "deployments", Verbs: []string{"create", "patch"}},
		{Group: "apps", Resource: "replicasets", Verbs: []string{"update", "delete"}},
		{Resource: "namespaces", Verbs: []string{"create"}},
	} {
		if err := c.Check(ctx, envNS, []kube.Permission{p}); err == nil {
			t.Errorf("as %s: %s is granted; the Role gives gantry no more than it uses", sa, p)
		}
	}
}
