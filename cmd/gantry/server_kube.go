package main

import (
	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/server"
)

// kubeServerFlags are the server's kubernetes backend flags.
type kubeServerFlags struct {
	enable              bool
	kubeconfig, context string
	namespace           string
	watchNamespaces     []string
}

func kubeFlags(cmd *cobra.Command) *kubeServerFlags {
	f := &kubeServerFlags{}
	fl := cmd.Flags()
	fl.BoolVar(&f.enable, "kubernetes", false, "run environments whose spec says backend: kubernetes on a Kubernetes cluster (implied by any --kube flag); docs/kubernetes.md")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster (default: $KUBECONFIG, ~/.kube/config, else the in-cluster configuration)")
	fl.StringVar(&f.context, "kube-context", "", "kubeconfig context (default: its current context)")
	fl.StringVar(&f.namespace, "kube-namespace", "", "namespace of environments without spec.kubernetes.namespace (default: the context's, in a pod its own, else default)")
	fl.StringSliceVar(&f.watchNamespaces, "kube-watch-namespaces", nil, "more namespaces to watch from the start, so that what earlier servers ran there is adopted (comma-separated)")
	return f
}

// options returns the server's kubernetes options, nil when the backend
// is not asked for.
func (f *kubeServerFlags) options(cmd *cobra.Command) *server.KubernetesOptions {
	fl := cmd.Flags()
	if !f.enable && !fl.Changed("kubeconfig") && !fl.Changed("kube-context") && !fl.Changed("kube-namespace") && !fl.Changed("kube-watch-namespaces") {
		return nil
	}
	return &server.KubernetesOptions{Kubeconfig: f.kubeconfig, Context: f.context, Namespace: f.namespace, WatchNamespaces: f.watchNamespaces}
}
