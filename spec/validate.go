package spec

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks an App that did not come from Parse (for example one
// decoded from JSON) with the same rules Parse applies, and fills the
// parsed quantities (MemoryBytes, CPUMillis). Its errors carry field paths
// but no file positions. It returns an ErrorList, or nil.
func (a *App) Validate() error {
	v := &validator{}
	v.app(a)
	return v.errs.err()
}

// validator collects semantic errors, placing each at the position the
// decoder recorded for its path (or the nearest recorded parent).
type validator struct {
	file string
	// pos maps field paths to positions; nil when the App has no source.
	pos map[string]position
	// bad holds paths that failed to decode; errors at, under or above
	// them are dropped, since they would only echo the decoding error.
	bad  []string
	errs ErrorList
	// backends are the names environments[].backend may take; nil: those
	// gantry knows (ParseOptions.Backends).
	backends []string
}

func (v *validator) add(path, format string, args ...any) {
	if v.isBad(path) {
		return
	}
	e := &FieldError{File: v.file, Path: path, Message: fmt.Sprintf(format, args...)}
	if v.pos != nil {
		p, ok := v.pos[path]
		for q := path; !ok && q != ""; {
			q = parentPath(q)
			p, ok = v.pos[q]
		}
		if !ok {
			p = position{1, 1}
		}
		e.Line, e.Column = p.line, p.col
	}
	v.errs = append(v.errs, e)
}

// isBad says whether path failed to decode, or lies under or above a path
// that did.
func (v *validator) isBad(path string) bool {
	for _, b := range v.bad {
		if within(path, b) || within(b, path) {
			return true
		}
	}
	return false
}

// within says whether path is p or a field or item under p.
func within(path, p string) bool {
	if p == "" || path == p {
		return true
	}
	return strings.HasPrefix(path, p) && (path[len(p)] == '.' || path[len(p)] == '[')
}

func (v *validator) app(a *App) {
	switch a.APIVersion {
	case APIVersion:
	case "":
		v.add("apiVersion", "required; add apiVersion: %s", APIVersion)
	default:
		v.add("apiVersion", "%q is not supported; use %s", a.APIVersion, APIVersion)
	}
	switch a.Kind {
	case KindApp:
	case "":
		v.add("kind", "required; add kind: %s", KindApp)
	default:
		v.add("kind", "%q is not supported; use %s", a.Kind, KindApp)
	}
	v.dnsLabel("metadata.name", a.Metadata.Name, "app")
	for k, val := range a.Metadata.Labels {
		path := joinKey("metadata.labels", k)
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			v.add(path, "label key %q is invalid: %s", k, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(val); len(msgs) > 0 {
			v.add(path, "label value %q is invalid: %s", val, strings.Join(msgs, "; "))
		}
	}
	v.spec("spec", &a.Spec)
	v.specCombinations("spec", a.Spec.WithDefaults(), "")
	v.environments(a)
	v.hooks(a)
}

// spec checks the fields of spec one by one.
func (v *validator) spec(path string, s *AppSpec) {
	v.replicas(joinField(path, "replicas"), s.Replicas)
	v.workload(joinField(path, "workload"), &s.Workload)
	v.resources(joinField(path, "resources"), &s.Resources)
	v.probe(joinField(path, "livenessProbe"), s.LivenessProbe, true)
	v.probe(joinField(path, "readinessProbe"), s.ReadinessProbe, false)
	v.strategy(joinField(path, "strategy"), &s.Strategy)
	v.analysis(joinField(path, "analysis"), s.Analysis)
	v.metrics(joinField(path, "metrics"), s.Metrics)
	v.database(joinField(path, "database"), s.Database, true)
	v.kubernetes(joinField(path, "kubernetes"), s.Kubernetes)
	v.atLeast(joinField(path, "minReadySeconds"), s.MinReadySeconds, 0, "")
	if s.ProgressDeadlineSeconds != nil {
		v.atLeast(joinField(path, "progressDeadlineSeconds"), *s.ProgressDeadlineSeconds, 1, "")
	}
	if s.RevisionHistoryLimit != nil {
		v.atLeast(joinField(path, "revisionHistoryLimit"), *s.RevisionHistoryLimit, 0, "; 0 keeps no old revisions")
	}
	if s.TerminationGracePeriodSeconds != nil {
		v.atLeast(joinField(path, "terminationGracePeriodSeconds"), *s.TerminationGracePeriodSeconds, 0, "; 0 kills at once")
	}
}

// specCombinations checks rules that tie fields together, on a spec with
// defaults set. env names the environment for messages ("" for the base
// spec); path is where the combination's fields were written.
func (v *validator) specCombinations(path string, s AppSpec, env string) {
	in := ""
	if env != "" {
		in = fmt.Sprintf(" in environment %s", env)
	}
	if s.MinReadySeconds > 0 && s.ProgressDeadline() <= s.MinReady() && env == "" {
		v.add(joinField(path, "progressDeadlineSeconds"),
			"must be greater than minReadySeconds (%d), got %d; raise it or lower minReadySeconds",
			s.MinReadySeconds, *s.ProgressDeadlineSeconds)
	}
	v.rollingCombination(joinField(path, "strategy.rollingUpdate.maxUnavailable"), s, in,
		joinField(path, "replicas"), joinField(path, "strategy"))
	v.requestsWithinLimits(joinField(path, "resources"), s.Resources, in)
}

// rollingCombination rejects maxSurge and maxUnavailable that both resolve
// to 0 against the replica count, which would let no instance be replaced.
// It reports at path at, and stays quiet when one of the inputs failed to
// decode.
func (v *validator) rollingCombination(at string, s AppSpec, in string, inputs ...string) {
	r := s.Strategy.RollingUpdate
	if s.StrategyType() != RollingUpdate || r == nil || s.ReplicaCount() == 0 {
		return
	}
	for _, p := range inputs {
		if v.isBad(p) {
			return
		}
	}
	if s.MaxSurgeCount() == 0 && s.MaxUnavailableCount() == 0 {
		v.add(at, "maxSurge %s and maxUnavailable %s both resolve to 0 with %d replicas%s, so no instance could be replaced; set maxSurge to at least 1 (or maxUnavailable to at least 1)",
			r.MaxSurge, r.MaxUnavailable, s.ReplicaCount(), in)
	}
}

// requestsWithinLimits rejects a request above its limit.
func (v *validator) requestsWithinLimits(path string, r Resources, in string) {
	req, lim := r.Requests, r.Limits
	if req.MemoryBytes > 0 && lim.MemoryBytes > 0 && req.MemoryBytes > lim.MemoryBytes {
		v.add(joinField(path, "requests.memory"), "request %s is above the limit %s%s; lower the request or raise the limit", req.Memory, lim.Memory, in)
	}
	if req.CPUMillis > 0 && lim.CPUMillis > 0 && req.CPUMillis > lim.CPUMillis {
		v.add(joinField(path, "requests.cpu"), "request %s is above the limit %s%s; lower the request or raise the limit", req.CPU, lim.CPU, in)
	}
}

func (v *validator) replicas(path string, r *int) {
	if r != nil && (*r < 0 || *r > MaxReplicas) {
		v.add(path, "must be between 0 and %d, got %d", MaxReplicas, *r)
	}
}

// atLeast rejects n below min.
func (v *validator) atLeast(path string, n, min int, note string) {
	if n < min {
		v.add(path, "must be at least %d, got %d%s", min, n, note)
	}
}

var dnsLabelFix = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel checks that name is a required DNS label; what says what it names.
func (v *validator) dnsLabel(path, name, what string) {
	if name == "" {
		v.add(path, "required; give the %s a name such as %q", what, map[string]string{"app": "gemini-api", "environment": "staging", "hook": "notify"}[what])
		return
	}
	if len(validation.IsDNS1123Label(name)) == 0 {
		return
	}
	fix := strings.Trim(dnsLabelFix.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(fix) > validation.DNS1123LabelMaxLength {
		fix = strings.Trim(fix[:validation.DNS1123LabelMaxLength], "-")
	}
	msg := fmt.Sprintf("%q is not a valid %s name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit", name, what)
	if fix != "" {
		msg += fmt.Sprintf(", such as %q", fix)
	}
	v.add(path, "%s", msg)
}
