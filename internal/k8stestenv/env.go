// Package k8stestenv connects tests to the Kubernetes test control plane
// that k8s-testenv.sh (in this directory) starts: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, whose fake node marks
// pods Running and serves their logs. Tests call Require, which skips
// them with the reason when $KUBECONFIG does not lead to that control
// plane (never a real cluster: the kwok node must be there), and run
// gantry with the shipped RBAC Role (deploy/kubernetes/rbac.yaml) through
// AsGantry. Pods serve nothing by themselves: Pods runs a real process
// for each one and maps its address.
package k8stestenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kclient "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Env is the reachable test control plane.
type Env struct {
	// Admin is the cluster administrator's configuration; Client its client.
	Admin  *rest.Config
	Client kclient.Interface
}

// Node is the name of the control plane's fake node: kwok marks the pods
// bound to it Running and Ready (unless annotated CustomStatus).
const Node = "kwok-node-0"

// Require returns the test control plane named by $KUBECONFIG, or skips
// the test saying how to start one.
func Require(t testing.TB) *Env {
	t.Helper()
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		t.Skip("no Kubernetes test control plane: KUBECONFIG is not set; start one with internal/k8stestenv/k8s-testenv.sh start && eval $(internal/k8stestenv/k8s-testenv.sh env)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Skipf("no Kubernetes test control plane: KUBECONFIG=%s: %v", path, err)
	}
	cfg.Timeout = 30 * time.Second
	client, err := kclient.NewForConfig(cfg)
	if err != nil {
		t.Skipf("no Kubernetes test control plane: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, err := client.CoreV1().Nodes().Get(ctx, Node, metav1.GetOptions{})
	if err != nil {
		t.Skipf("no Kubernetes test control plane at %s (KUBECONFIG=%s): %v; start one with internal/k8stestenv/k8s-testenv.sh start", cfg.Host, path, err)
	}
	if node.Annotations["kwok.x-k8s.io/node"] != "fake" {
		t.Skipf("KUBECONFIG=%s is not the test control plane (no fake kwok node); the tests never run against a real cluster", path)
	}
	return &Env{Admin: cfg, Client: client}
}

// Namespace creates a namespace for the test, deleted when it ends.
func (e *Env) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ns, err := e.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = e.Client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// RepoFile is the path of a file of the repository, from its root.
func RepoFile(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", rel)
}

// AsGantry applies the shipped RBAC (deploy/kubernetes/rbac.yaml) in
// namespace ns, with a ServiceAccount gantry there, and returns a
// configuration that acts as that ServiceAccount: what gantry may do
// with the Role alone.
func (e *Env) AsGantry(t testing.TB, ns string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	if _, err := e.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "gantry"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, obj := range ReadManifests(t, RepoFile("deploy/kubernetes/rbac.yaml")) {
		var err error
		switch o := obj.(type) {
		case *rbacv1.Role:
			_, err = e.Client.RbacV1().Roles(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			for i := range o.Subjects {
				o.Subjects[i].Namespace = ns
			}
			_, err = e.Client.RbacV1().RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("rbac.yaml holds a %T; want only a Role and a RoleBinding", obj)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(e.Admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":gantry"}
	return cfg
}

// ReadManifests decodes every document of a YAML file into typed objects.
func ReadManifests(t testing.TB, path string) []any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, obj)
	}
	return out
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for line := range strings.SplitSeq(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			fmt.Fprintln(&b, line)
		}
	}
	return b.Bytes()
}
