package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kclient "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config says how to reach a cluster.
type Config struct {
	// Kubeconfig is a kubeconfig file. Empty: $KUBECONFIG, then
	// ~/.kube/config, then the in-cluster configuration (gantry running in
	// a pod with a ServiceAccount).
	Kubeconfig string
	// Context is the kubeconfig context to use; empty: its current context.
	Context string
	// Namespace is where environments without spec.kubernetes.namespace
	// run. Empty: the context's namespace (in a pod: the pod's own), else
	// "default".
	Namespace string
	// REST, when set, is used as is instead of Kubeconfig and Context
	// (tests, embedding programs).
	REST *rest.Config
	// Timeout bounds each API request but watches and followed logs.
	// Zero: 30 seconds.
	Timeout time.Duration
}

// Cluster is a connection to one Kubernetes API server, checked to answer.
type Cluster struct {
	// REST is the client configuration; Client the typed client over it.
	REST   *rest.Config
	Client kclient.Interface
	// Namespace is the default namespace (Config.Namespace resolved).
	Namespace string
	// Host is the API server's URL, for messages.
	Host string

	mu      sync.Mutex
	checked map[string]bool // namespace+permissions already found good
}

const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Connect builds a client from c and checks that the API server answers,
// so that a wrong kubeconfig or an unreachable cluster is an error now,
// before anything changes.
func Connect(ctx context.Context, c Config) (*Cluster, error) {
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	cfg, ns, err := restConfig(c)
	if err != nil {
		return nil, err
	}
	if c.Namespace != "" {
		ns = c.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	client, err := kclient.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	cl := &Cluster{REST: cfg, Client: client, Namespace: ns, Host: cfg.Host, checked: map[string]bool{}}
	vctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if _, err := client.Discovery().RESTClient().Get().AbsPath("/version").Do(vctx).Raw(); err != nil {
		return nil, fmt.Errorf("kubernetes API server %s does not answer: %w; check the kubeconfig's server address and that the cluster is up (kubectl version)", cfg.Host, err)
	}
	return cl, nil
}

// restConfig loads the client configuration and the context's namespace.
func restConfig(c Config) (*rest.Config, string, error) {
	if c.REST != nil {
		cfg := rest.CopyConfig(c.REST)
		cfg.Timeout = c.Timeout
		return cfg, "", nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if c.Kubeconfig != "" {
		if _, err := os.Stat(c.Kubeconfig); err != nil {
			return nil, "", fmt.Errorf("kubeconfig %s: %w", c.Kubeconfig, err)
		}
		rules.ExplicitPath = c.Kubeconfig
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		if c.Kubeconfig == "" && c.Context == "" && clientcmd.IsEmptyConfig(err) {
			cfg, ierr := rest.InClusterConfig()
			if ierr != nil {
				return nil, "", fmt.Errorf("no kubeconfig (set --kubeconfig or $KUBECONFIG) and not in a cluster: %w", ierr)
			}
			ns, _ := os.ReadFile(inClusterNamespaceFile)
			cfg.Timeout = c.Timeout
			return cfg, strings.TrimSpace(string(ns)), nil
		}
		where := "kubeconfig"
		if c.Context != "" {
			where = fmt.Sprintf("kubeconfig context %q", c.Context)
		}
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig namespace: %w", err)
	}
	cfg.Timeout = c.Timeout
	return cfg, ns, nil
}

// Permission is one verb on one resource that gantry needs in a namespace.
type Permission struct {
	// Group is the API group ("" for the core group), Resource its plural
	// name, Subresource such as "log" (empty: none).
	Group, Resource, Subresource string
	// Verbs are checked one by one.
	Verbs []string
}

// String renders the permission as a Role rule.
func (p Permission) String() string {
	r := p.Resource
	if p.Subresource != "" {
		r += "/" + p.Subresource
	}
	return fmt.Sprintf("{apiGroups: [%q], resources: [%s], verbs: [%s]}", p.Group, r, strings.Join(p.Verbs, ", "))
}

// BackendPermissions are what the backend needs in every namespace it runs
// environments in: exactly the calls it makes (deploy/kubernetes/rbac.yaml
// says why each). ReplicaSets are never updated or deleted: scaled with a
// merge patch, removed by the garbage collector with their owner.
var BackendPermissions = []Permission{
	{Group: "apps", Resource: "replicasets", Verbs: []string{"get", "list", "watch", "create", "patch"}},
	{Resource: "pods", Verbs: []string{"get", "list", "watch"}},
	{Resource: "pods", Subresource: "log", Verbs: []string{"get"}},
	{Resource: "configmaps", Verbs: []string{"get", "create", "patch"}},
}

// ErrForbidden marks a check that found verbs gantry needs not granted.
var ErrForbidden = errors.New("missing permissions")

// ErrNoNamespace marks a namespace that does not exist.
var ErrNoNamespace = errors.New("namespace does not exist")

// Check verifies that namespace ns exists and that every permission is
// granted there (SelfSubjectAccessReview), once per namespace and set of
// permissions: a good result is remembered. The error names every missing
// verb with the Role rule that grants it.
func (c *Cluster) Check(ctx context.Context, ns string, perms []Permission) error {
	key := ns + "|" + fmt.Sprint(perms)
	c.mu.Lock()
	done := c.checked[key]
	c.mu.Unlock()
	if done {
		return nil
	}
	_, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: namespace %q on %s; create it (kubectl create namespace %s) or set kubernetes.namespace in the spec", ErrNoNamespace, ns, c.Host, ns)
	case err != nil && !apierrors.IsForbidden(err):
		return fmt.Errorf("namespace %q on %s: %w", ns, c.Host, err)
	}
	// A Role cannot let gantry read Namespace objects; then the access
	// review below fails too for a namespace that does not exist.
	var missing []string
	for _, p := range perms {
		var denied []string
		for _, verb := range p.Verbs {
			ok, err := c.allowed(ctx, ns, p, verb)
			if err != nil {
				return err
			}
			if !ok {
				denied = append(denied, verb)
			}
		}
		if len(denied) > 0 {
			missing = append(missing, Permission{Group: p.Group, Resource: p.Resource, Subresource: p.Subresource, Verbs: denied}.String())
		}
	}
	if len(missing) > 0 {
		hint := ""
		if apierrors.IsForbidden(err) {
			hint = fmt.Sprintf(" (check too that namespace %q exists)", ns)
		}
		return fmt.Errorf("%w in namespace %q on %s: %s; grant them with a Role and RoleBinding (deploy/kubernetes/rbac.yaml)%s",
			ErrForbidden, ns, c.Host, strings.Join(missing, ", "), hint)
	}
	c.mu.Lock()
	c.checked[key] = true
	c.mu.Unlock()
	return nil
}

// allowed asks the API server whether gantry's identity may do verb.
func (c *Cluster) allowed(ctx context.Context, ns string, p Permission, verb string) (bool, error) {
	r, err := c.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: ns, Verb: verb, Group: p.Group, Resource: p.Resource, Subresource: p.Subresource,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("access review of %s %s in %q on %s: %w", verb, p.Resource, ns, c.Host, err)
	}
	return r.Status.Allowed, nil
}
