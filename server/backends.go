package server

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/kubernetes"
	"github.com/gantry-dev/gantry/backend/local"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/router/kuberouter"
	"github.com/gantry-dev/gantry/spec"
)

// KubernetesOptions turn on the kubernetes backend: how to reach the
// cluster and which namespaces to watch.
type KubernetesOptions struct {
	// Kubeconfig and Context pick the cluster; empty: $KUBECONFIG,
	// ~/.kube/config, then the in-cluster configuration.
	Kubeconfig, Context string
	// Namespace is where environments without spec.kubernetes.namespace
	// run; empty: the context's namespace (in a pod: its own), else default.
	Namespace string
	// WatchNamespaces are watched from the start besides Namespace, so
	// that what earlier servers ran there is adopted.
	WatchNamespaces []string
}

// kubeConnection is the server's one connection to its Kubernetes cluster,
// shared by the kubernetes backend and the Kubernetes routers; made on
// first use, and again after a failed attempt.
type kubeConnection struct {
	opts *KubernetesOptions

	mu sync.Mutex
	c  *kubernetes.Cluster
}

// cluster connects (once it succeeds), checking that the API server answers.
func (k *kubeConnection) cluster(ctx context.Context) (*kubernetes.Cluster, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil {
		return k.c, nil
	}
	c, err := kubernetes.Connect(ctx, kubernetes.Config{Kubeconfig: k.opts.Kubeconfig, Context: k.opts.Context, Namespace: k.opts.Namespace})
	if err != nil {
		return nil, err
	}
	k.c = c
	return c, nil
}

// defaultBackends is the registry of the backends a server runs unless
// Options.Backends says otherwise: spec.BackendLocal, and
// spec.BackendKubernetes with Options.Kubernetes. This is the one file of
// the server that knows a backend by its package; a new backend is a line
// here.
func defaultBackends(opts Options, kc *kubeConnection) backend.Registry {
	reg := backend.Registry{
		spec.BackendLocal: func(o backend.Options) (backend.Backend, error) {
			return local.New(local.Options{
				DataDir: o.DataDir, BaseDir: o.BaseDir,
				OnChange: o.OnChange, Drain: o.Drain, Event: o.Event,
				RestartBackoff: opts.RestartBackoff,
			})
		},
	}
	if k := opts.Kubernetes; k != nil && kc != nil {
		reg[spec.BackendKubernetes] = func(o backend.Options) (backend.Backend, error) {
			// Connecting checks the cluster, the namespaces and the
			// permissions before anything changes.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := kc.cluster(ctx)
			if err != nil {
				return nil, err
			}
			return kubernetes.New(ctx, kubernetes.Options{Cluster: c, Namespaces: k.WatchNamespaces, OnChange: o.OnChange, Event: o.Event, Logf: opts.Logf})
		}
	}
	return reg
}

// defaultRouters is the registry of the routers an environment on the
// kubernetes backend may name (spec.kubernetes.router.type), each made
// over the server's cluster connection with specOf (an environment's
// resolved spec.kubernetes) and event (what the routers tell users). This
// and defaultBackends are the server's only knowledge of the routers by
// package; a new router is a line here.
func defaultRouters(kc *kubeConnection, specOf func(app, env string) *spec.Kubernetes, event func(rollout.Event)) router.Registry {
	kube := func(newRouter func(kuberouter.Options) (*kuberouter.Router, error)) router.Factory {
		return func() (router.Router, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := kc.cluster(ctx)
			if err != nil {
				return nil, err
			}
			r, err := newRouter(kuberouter.Options{Cluster: c, Spec: specOf, Event: event})
			if err != nil {
				return nil, err
			}
			return r, nil
		}
	}
	return router.Registry{
		string(spec.RouterService):      kube(kuberouter.NewService),
		string(spec.RouterGatewayAPI):   kube(kuberouter.NewGateway),
		string(spec.RouterIngressNginx): kube(kuberouter.NewIngressNginx),
	}
}

// checkCommand says whether this server's local backend could run a
// workload command: relative to --base-dir (default: the server's working
// directory), or on its PATH.
func (s *Server) checkCommand(command string) error {
	base := s.opts.BaseDir
	if base == "" {
		base, _ = os.Getwd()
	}
	return local.CheckCommand(base, command)
}
