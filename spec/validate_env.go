package spec

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

func (v *validator) environments(a *App) {
	if len(a.Environments) == 0 {
		v.add("environments", "at least one environment is required; add for example environments: [{name: development}]")
		return
	}
	first := map[string]int{}
	for i, e := range a.Environments {
		path := fmt.Sprintf("environments[%d]", i)
		v.dnsLabel(joinField(path, "name"), e.Name, "environment")
		if j, dup := first[e.Name]; dup && e.Name != "" {
			v.add(joinField(path, "name"), "environment %s is already declared as environments[%d]; give each environment its own name", e.Name, j)
		} else {
			first[e.Name] = i
		}
		v.backend(joinField(path, "backend"), e)
		if e.Proxy.Listen != "" {
			if _, _, err := listenAddr(e.Proxy.Listen); err != nil {
				v.add(joinField(path, "proxy.listen"), "%v", err)
			}
		}
		if c := e.Proxy.StickyCookie; c != "" && !validCookieName(c) {
			v.add(joinField(path, "proxy.stickyCookie"), "%q is not a valid cookie name; use letters, digits, '-' and '_', such as gantry-revision", c)
		}
		v.proxyLimits(joinField(path, "proxy"), e.Proxy)
		v.environmentOverrides(path, &a.Environments[i], a.Spec)
		v.promoteFrom(a, i)
		v.policy(a, i)
	}
	v.workloadForBackends(a)
	v.uniqueListens(a)
}

// environmentOverrides checks an environment's overrides like the base
// fields, then the combinations they take part in, resolved.
func (v *validator) environmentOverrides(path string, e *Environment, base AppSpec) {
	v.replicas(joinField(path, "replicas"), e.Replicas)
	v.envVars(joinField(path, "env"), e.Env)
	if e.Resources != nil {
		v.resources(joinField(path, "resources"), e.Resources)
	}
	if e.Strategy != nil {
		v.strategy(joinField(path, "strategy"), e.Strategy)
	}
	v.database(joinField(path, "database"), e.Database, base.Database == nil)
	v.kubernetes(joinField(path, "kubernetes"), e.Kubernetes)
	resolved := base.withOverrides(*e).WithDefaults()
	in := fmt.Sprintf(" in environment %s", e.Name)
	switch {
	case e.Strategy != nil:
		v.rollingCombination(joinField(path, "strategy.rollingUpdate.maxUnavailable"), resolved, in,
			joinField(path, "replicas"), "spec.replicas", joinField(path, "strategy"))
	case e.Replicas != nil:
		// The base strategy, resolved against this environment's replicas.
		v.rollingCombination(joinField(path, "replicas"), resolved, in,
			joinField(path, "replicas"), "spec.strategy")
	}
	if e.Resources != nil {
		v.requestsWithinLimits(joinField(path, "resources"), resolved.Resources, in)
	}
}

// backend checks that an environment's backend is one that can run it.
func (v *validator) backend(path string, e Environment) {
	if v.backends == nil {
		switch e.Backend {
		case "", BackendLocal, BackendKubernetes:
		default:
			v.add(path, "%q is not a backend; use %s (the default) or %s", e.Backend, BackendLocal, BackendKubernetes)
		}
		return
	}
	if slices.Contains(v.backends, e.BackendName()) {
		return
	}
	unset := ""
	if e.Backend == "" {
		unset = " (the default when backend is not set)"
	}
	v.add(path, "%q%s is not a backend this server runs; set backend to one of: %s", e.BackendName(), unset, strings.Join(v.backends, ", "))
}

// workloadForBackends requires command when an environment runs locally
// and image when one runs on Kubernetes.
func (v *validator) workloadForBackends(a *App) {
	var local, kube []string
	for _, e := range a.Environments {
		switch e.BackendName() {
		case BackendLocal:
			local = append(local, e.Name)
		case BackendKubernetes:
			kube = append(kube, e.Name)
		}
	}
	w := a.Spec.Workload
	if len(local) > 0 && w.Command == "" {
		v.add("spec.workload.command", "required because %s the local backend; set the program to run, such as command: ./bin/server", uses(local))
	}
	if len(kube) > 0 && w.Image == "" {
		v.add("spec.workload.image", "required because %s the kubernetes backend; set the container image, such as image: registry.example.com/app:{{.Version}}", uses(kube))
	}
}

// uses renders `environment dev uses` or `environments dev, prod use`.
func uses(envs []string) string {
	if len(envs) == 1 {
		return fmt.Sprintf("environment %s uses", envs[0])
	}
	return fmt.Sprintf("environments %s use", strings.Join(envs, ", "))
}

// listener is one address some environment listens on.
type listener struct {
	path, env, host string
	port            int
	addr            string
}

// uniqueListens rejects two environments (proxies or blue-green previews)
// listening on the same port of the same host, or of every host.
func (v *validator) uniqueListens(a *App) {
	var seen []listener
	for i, e := range a.Environments {
		path := fmt.Sprintf("environments[%d]", i)
		cands := []listener{{path: joinField(path, "proxy.listen"), addr: e.Proxy.Listen}}
		switch s := e.Strategy; {
		case s != nil && s.BlueGreen != nil:
			cands = append(cands, listener{path: joinField(path, "strategy.blueGreen.previewListen"), addr: s.BlueGreen.PreviewListen})
		case s == nil && a.Spec.Strategy.BlueGreen != nil:
			cands = append(cands, listener{path: "spec.strategy.blueGreen.previewListen", addr: a.Spec.Strategy.BlueGreen.PreviewListen})
		}
		for _, c := range cands {
			if c.addr == "" {
				continue
			}
			host, port, err := listenAddr(c.addr)
			if err != nil || port == 0 {
				continue
			}
			c.env, c.host, c.port = e.Name, host, port
			for _, s := range seen {
				if s.port == c.port && sameHost(s.host, c.host) {
					if s.path == c.path {
						v.add(c.path, "%s is shared by environments %s and %s; set previewListen per environment under environments[].strategy", c.addr, s.env, c.env)
					} else {
						v.add(c.path, "%s is already used by environment %s (%s); give each environment its own port", c.addr, s.env, s.path)
					}
					break
				}
			}
			seen = append(seen, c)
		}
	}
}

// sameHost says whether two listen hosts overlap: equal, or either of them
// every interface.
func sameHost(a, b string) bool {
	norm := func(h string) string {
		if h == "localhost" {
			return "127.0.0.1"
		}
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				return ""
			}
			return ip.String()
		}
		return strings.ToLower(h)
	}
	a, b = norm(a), norm(b)
	return a == "" || b == "" || a == b
}

// validCookieName accepts an HTTP token (RFC 6265 cookie-name).
func validCookieName(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return s != ""
}

// proxyLimits checks an environment's proxy timeouts, connection cap,
// trusted proxies and TLS files.
func (v *validator) proxyLimits(path string, p ProxyConfig) {
	for name, val := range p.Timeouts.byName() {
		if val == "" {
			continue
		}
		if d, err := time.ParseDuration(val); err != nil || d <= 0 {
			v.add(joinField(path, "timeouts."+name), "%q is not a positive duration; use for example 30s or 2m, or leave it out for the default", val)
		}
	}
	if p.MaxConnections < 0 {
		v.add(joinField(path, "maxConnections"), "%d is negative; use a positive number, or 0 for the default", p.MaxConnections)
	}
	for i, s := range p.TrustedProxies {
		if _, err := ParseTrustedProxy(s); err != nil {
			v.add(fmt.Sprintf("%s[%d]", joinField(path, "trustedProxies"), i), "%q is not an address or CIDR range; use for example 10.0.0.0/8 or 192.0.2.7", s)
		}
	}
	if t := p.TLS; t != nil && (t.CertFile == "" || t.KeyFile == "") {
		v.add(joinField(path, "tls"), "certFile and keyFile are both required; name the PEM certificate and key files")
	}
}
