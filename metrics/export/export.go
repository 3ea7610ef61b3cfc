// Package export writes what a team's own monitoring needs to watch an app
// that gantry delivers: a Prometheus rule file (recording rules per version
// and the deployment plan's alerts on gantry's metric names) and a Grafana
// dashboard (request rate, error share, p50/p95/p99 latency and in-flight
// requests per version, with rollouts as annotations). Both are plain
// functions of the app and environment; nothing is read from a server.
package export

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Target is the app, and optionally the environment, an export watches.
type Target struct {
	// App is the app's name (metadata.name of its spec); required.
	App string
	// Env is one environment's name; empty: every environment of the app
	// (the rules keep env as a label, the dashboard has an env variable).
	Env string
}

// Check returns an error when App or Env is not a name gantry accepts.
func (t Target) Check() error {
	if t.App == "" {
		return fmt.Errorf("app: required: name the app whose rules and dashboard to export")
	}
	for _, f := range []struct{ what, v string }{{"app", t.App}, {"environment", t.Env}} {
		if f.v != "" && len(validation.IsDNS1123Label(f.v)) > 0 {
			return fmt.Errorf("%s %q: not a valid name: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit", f.what, f.v)
		}
	}
	return nil
}

// Name is the stem of the exported files and the group and dashboard
// names: gantry-APP, or gantry-APP-ENV with an environment.
func (t Target) Name() string {
	if t.Env == "" {
		return "gantry-" + t.App
	}
	return "gantry-" + t.App + "-" + t.Env
}

// matchers are the label matchers selecting the target's series, without
// braces: app="web",env="prod" (env given) or app="web".
func (t Target) matchers() string {
	m := fmt.Sprintf("app=%q", t.App)
	if t.Env != "" {
		m += fmt.Sprintf(",env=%q", t.Env)
	}
	return m
}

// selector is the target's matchers plus extra ones, in braces.
func selector(base string, extra ...string) string {
	return "{" + strings.Join(append([]string{base}, extra...), ",") + "}"
}
