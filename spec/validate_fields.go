package spec

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func (v *validator) workload(path string, w *Workload) {
	v.template(joinField(path, "command"), w.Command)
	for i, a := range w.Args {
		v.template(fmt.Sprintf("%s.args[%d]", path, i), a)
	}
	v.envVars(joinField(path, "env"), w.Env)
	v.template(joinField(path, "workingDir"), w.WorkingDir)
	v.template(joinField(path, "image"), w.Image)
	v.image(joinField(path, "image"), w.Image)
	v.port(joinField(path, "port"), w.Port, fmt.Sprintf("; leave it out for %d", DefaultPort))
}

// template checks a placeholder template.
func (v *validator) template(path, text string) {
	if err := checkTemplate(text); err != nil {
		v.add(path, "%v", err)
	}
}

// port accepts 0 (unset) and 1..65535.
func (v *validator) port(path string, p int, unsetHint string) {
	if p < 0 || p > 65535 {
		v.add(path, "port must be between 1 and 65535, got %d%s", p, unsetHint)
	}
}

var envVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var envVarFix = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func (v *validator) envVars(path string, vars []EnvVar) {
	first := map[string]int{}
	for i, e := range vars {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case e.Name == "":
			v.add(joinField(ipath, "name"), "required; name the variable, such as LOG_LEVEL")
		case !envVarName.MatchString(e.Name):
			v.add(joinField(ipath, "name"), "%q is not a valid variable name: use letters, digits and '_', not starting with a digit, such as %q",
				e.Name, strings.Trim(envVarFix.ReplaceAllString(e.Name, "_"), "_"))
		default:
			if j, dup := first[e.Name]; dup {
				v.add(joinField(ipath, "name"), "%s is already set by %s[%d]; set each variable once", e.Name, path, j)
			} else {
				first[e.Name] = i
			}
		}
		if e.ValueFrom != nil {
			if e.Value != "" {
				v.add(ipath, "sets both value and valueFrom; keep the reference (valueFrom) and drop the value")
			}
			v.valueFrom(joinField(ipath, "valueFrom"), e.ValueFrom)
		}
		v.template(joinField(ipath, "value"), e.Value)
	}
}

// resources parses each quantity, filling MemoryBytes and CPUMillis.
func (v *validator) resources(path string, r *Resources) {
	for _, l := range []struct {
		name string
		list *ResourceList
	}{{"requests", &r.Requests}, {"limits", &r.Limits}} {
		lpath := joinField(path, l.name)
		if l.list.Memory != "" {
			b, err := parseMemory(l.list.Memory)
			if err != nil {
				v.add(joinField(lpath, "memory"), "%v", err)
			}
			l.list.MemoryBytes = b
		}
		if l.list.CPU != "" {
			m, err := parseCPU(l.list.CPU)
			if err != nil {
				v.add(joinField(lpath, "cpu"), "%v", err)
			}
			l.list.CPUMillis = m
		}
	}
}

func (v *validator) probe(path string, p *Probe, liveness bool) {
	if p == nil {
		return
	}
	if p.HTTPGet == nil {
		v.add(joinField(path, "httpGet"), "required; gantry probes over HTTP, for example httpGet: {path: /health}")
	} else {
		h := p.HTTPGet
		hpath := joinField(path, "httpGet")
		switch {
		case h.Path == "":
			v.add(joinField(hpath, "path"), "required; give the path to probe, such as /health")
		case !strings.HasPrefix(h.Path, "/"):
			v.add(joinField(hpath, "path"), "%q must start with '/', such as %q", h.Path, "/"+h.Path)
		}
		v.port(joinField(hpath, "port"), h.Port, "; leave it out to probe the workload's port")
		if s := strings.ToUpper(h.Scheme); h.Scheme != "" && s != "HTTP" && s != "HTTPS" {
			v.add(joinField(hpath, "scheme"), "%q is not supported; use HTTP or HTTPS", h.Scheme)
		}
	}
	v.atLeast(joinField(path, "initialDelaySeconds"), p.InitialDelaySeconds, 0, "")
	v.atLeast(joinField(path, "periodSeconds"), p.PeriodSeconds, 0, fmt.Sprintf("; leave it out for %d", DefaultProbePeriodSeconds))
	v.atLeast(joinField(path, "timeoutSeconds"), p.TimeoutSeconds, 0, fmt.Sprintf("; leave it out for %d", DefaultProbeTimeoutSeconds))
	v.atLeast(joinField(path, "successThreshold"), p.SuccessThreshold, 0, fmt.Sprintf("; leave it out for %d", DefaultProbeSuccessThreshold))
	v.atLeast(joinField(path, "failureThreshold"), p.FailureThreshold, 0, fmt.Sprintf("; leave it out for %d", DefaultProbeFailureThreshold))
	if liveness && p.SuccessThreshold > 1 {
		v.add(joinField(path, "successThreshold"), "must be 1 for a liveness probe, got %d; leave it out", p.SuccessThreshold)
	}
}

var strategyTypes = []string{string(RollingUpdate), string(Canary), string(BlueGreen)}

func (v *validator) strategy(path string, s *Strategy) {
	t := s.Type
	switch t {
	case RollingUpdate, Canary, BlueGreen:
	case "":
		t = RollingUpdate
	default:
		msg := fmt.Sprintf("%q is not a strategy", t)
		if c, ok := closest(string(t), strategyTypes); ok {
			msg += fmt.Sprintf("; did you mean %s?", c)
		} else {
			msg += "; use " + strings.Join(strategyTypes, ", ") + " or leave type out for RollingUpdate"
		}
		v.add(joinField(path, "type"), "%s", msg)
		t = "" // unknown: no sub-struct matches, check each on its own
	}
	v.subStrategy(path, s.Type, t, "rollingUpdate", RollingUpdate, s.RollingUpdate != nil)
	v.subStrategy(path, s.Type, t, "canary", Canary, s.Canary != nil)
	v.subStrategy(path, s.Type, t, "blueGreen", BlueGreen, s.BlueGreen != nil)
	if r := s.RollingUpdate; r != nil {
		rpath := joinField(path, "rollingUpdate")
		if r.MaxSurge != nil {
			if n, _, err := intOrPercent(*r.MaxSurge); err != nil {
				v.add(joinField(rpath, "maxSurge"), "%v; use 1 or \"25%%\"", err)
			} else if n < 0 {
				v.add(joinField(rpath, "maxSurge"), "must not be negative, got %s", r.MaxSurge)
			}
		}
		if u := r.MaxUnavailable; u != nil {
			if n, percent, err := intOrPercent(*u); err != nil {
				v.add(joinField(rpath, "maxUnavailable"), "%v; use 1 or \"25%%\"", err)
			} else if n < 0 {
				v.add(joinField(rpath, "maxUnavailable"), "must not be negative, got %s", u)
			} else if percent && n > 100 {
				v.add(joinField(rpath, "maxUnavailable"), "%s is more than 100%%; use at most \"100%%\"", u)
			}
		}
	}
	if c := s.Canary; c != nil {
		v.canarySteps(joinField(path, "canary.steps"), c.Steps)
	}
	if b := s.BlueGreen; b != nil {
		bpath := joinField(path, "blueGreen")
		if b.PreviewListen != "" {
			if _, _, err := listenAddr(b.PreviewListen); err != nil {
				v.add(joinField(bpath, "previewListen"), "%v", err)
			}
		}
		if b.ScaleDownDelaySeconds != nil {
			v.atLeast(joinField(bpath, "scaleDownDelaySeconds"), *b.ScaleDownDelaySeconds, 0, "")
		}
		v.smokeTests(joinField(bpath, "smokeTests"), b.SmokeTests)
	}
}

// subStrategy rejects a strategy sub-struct that does not match the type.
// written is the type as written, t the effective type ("" if unknown).
func (v *validator) subStrategy(path string, written, t StrategyType, field string, own StrategyType, set bool) {
	if !set || t == own || t == "" {
		return
	}
	if written == "" {
		v.add(joinField(path, field), "only allowed when type is %s, and type is RollingUpdate when left out; add type: %s or remove %s", own, own, field)
		return
	}
	v.add(joinField(path, field), "only allowed when type is %s, but type is %s; remove %s or change the type", own, t, field)
}

func (v *validator) canarySteps(path string, steps []CanaryStep) {
	for i, st := range steps {
		spath := fmt.Sprintf("%s[%d]", path, i)
		set := 0
		for _, isSet := range []bool{st.SetWeight != nil, st.Pause != nil, st.SetFlag != nil} {
			if isSet {
				set++
			}
		}
		switch {
		case set == 0:
			v.add(spath, "a step sets exactly one of setWeight, pause or setFlag, and this one sets none; add setWeight: 25 or pause: {duration: 30s}")
		case set > 1:
			v.add(spath, "a step sets exactly one of setWeight, pause or setFlag, and this one sets several; split it into one step each")
		}
		if f := st.SetFlag; f != nil {
			if f.Name == "" {
				v.add(joinField(spath, "setFlag.name"), "is required: the key of a feature flag of the environment, such as name: new-ai-agent")
			}
			if f.Percentage < 0 || f.Percentage > 100 {
				v.add(joinField(spath, "setFlag.percentage"), "must be a percentage between 0 and 100, got %g", f.Percentage)
			}
		}
		if w := st.SetWeight; w != nil && (*w < 0 || *w > 100) {
			v.add(joinField(spath, "setWeight"), "must be a percentage between 0 and 100, got %d", *w)
		}
		if p := st.Pause; p != nil && p.Duration != "" {
			d, err := time.ParseDuration(p.Duration)
			switch {
			case err != nil:
				v.add(joinField(spath, "pause.duration"), "%q is not a duration; use a number with a unit, such as \"30s\" or \"5m\"", p.Duration)
			case d <= 0:
				v.add(joinField(spath, "pause.duration"), "must be positive, got %q; leave duration out to pause until the rollout is promoted", p.Duration)
			}
		}
	}
}

// listenAddr checks a host:port listen address whose port may be 0 (a free
// port) and whose host may be empty (every interface).
func listenAddr(s string) (host string, port int, err error) {
	const example = `; use for example "127.0.0.1:8080"`
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not a host:port address%s", s, example)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has port %q, which is not a number between 0 and 65535%s", s, p, example)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return "", 0, fmt.Errorf("%q has host %q, which is neither an IP address nor a host name%s", s, host, example)
	}
	return host, port, nil
}

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

func validHostname(h string) bool { return len(h) <= 253 && hostnameRE.MatchString(h) }
