package spec

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/calendar"
)

// hooks checks the app's hook definitions: named once each, a command or
// a webhook.
func (v *validator) hooks(a *App) {
	first := map[string]int{}
	for i, h := range a.Hooks {
		path := fmt.Sprintf("hooks[%d]", i)
		v.dnsLabel(joinField(path, "name"), h.Name, "hook")
		if j, dup := first[h.Name]; dup && h.Name != "" {
			v.add(joinField(path, "name"), "hook %s is already declared as hooks[%d]; give each hook its own name", h.Name, j)
		} else {
			first[h.Name] = i
		}
		switch {
		case h.Command == nil && h.Webhook == nil:
			v.add(path, "a hook sets exactly one of command or webhook, and this one sets neither; add command: [./notify.sh] or webhook: {url: https://…}")
		case h.Command != nil && h.Webhook != nil:
			v.add(path, "a hook sets exactly one of command or webhook, and this one sets both; split it into two hooks")
		case h.Command != nil && (len(h.Command) == 0 || h.Command[0] == ""):
			v.add(joinField(path, "command"), "must start with the program to run, such as command: [./notify.sh]")
		}
		if w := h.Webhook; w != nil {
			u, err := url.Parse(w.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(joinField(path, "webhook.url"), "%q is not an http or https URL; write for example https://ci.example.com/gantry", w.URL)
			}
			if w.Secret != nil && (w.Secret.SecretFile == "") == (w.Secret.ServerEnv == "") {
				v.add(joinField(path, "webhook.secret"), "set exactly one of secretFile or serverEnv")
			}
		}
		if h.TimeoutSeconds < 0 || h.TimeoutSeconds > 3600 {
			v.add(joinField(path, "timeoutSeconds"), "must be between 1 and 3600, or 0 for the default (10), got %d", h.TimeoutSeconds)
		}
	}
	if r := a.ReleaseNotes; r != nil && r.Changelog == "" {
		v.add("releaseNotes.changelog", "required; name the changelog file, such as CHANGELOG.md")
	}
}

// promoteFrom checks that an environment promotes from another, earlier one.
func (v *validator) promoteFrom(a *App, i int) {
	e := a.Environments[i]
	if e.PromoteFrom == "" {
		return
	}
	path := fmt.Sprintf("environments[%d].promoteFrom", i)
	names := a.EnvironmentNames()
	j := slices.Index(names, e.PromoteFrom)
	switch {
	case j < 0:
		v.add(path, "%q is not an environment of this app; use one of: %s", e.PromoteFrom, strings.Join(names[:i], ", "))
	case j == i:
		v.add(path, "environment %s cannot promote from itself; name the environment before it, such as staging", e.Name)
	case j > i:
		v.add(path, "%s comes after %s; environments are listed in promotion order, so promote from an earlier one or move %s up", e.PromoteFrom, e.Name, e.PromoteFrom)
	}
}

// policy checks one environment's policy.
func (v *validator) policy(a *App, i int) {
	p := a.Environments[i].Policy
	if p == nil {
		return
	}
	path := fmt.Sprintf("environments[%d].policy", i)
	if ap := p.Approval; ap != nil {
		apath := joinField(path, "approval")
		switch ap.Role {
		case "", "approver", "admin":
		default:
			v.add(joinField(apath, "role"), "%q cannot approve; use approver (the default) or admin", ap.Role)
		}
		if ap.Approvals < 0 || ap.Approvals > 10 {
			v.add(joinField(apath, "approvals"), "must be between 1 and 10, or 0 for the default (1), got %d", ap.Approvals)
		}
		if ap.Expiry != "" {
			if d, err := time.ParseDuration(ap.Expiry); err != nil || d < time.Minute || d > 720*time.Hour {
				v.add(joinField(apath, "expiry"), "%q is not a duration between 1m and 720h; write for example 24h", ap.Expiry)
			}
		}
	}
	for j, s := range p.Windows {
		if _, err := calendar.ParseWindow(s); err != nil {
			v.add(fmt.Sprintf("%s[%d]", joinField(path, "windows"), j), "%v", err)
		}
	}
	for j, f := range p.Freezes {
		if _, err := calendar.ParseFreeze(f.From, f.Until, f.Reason); err != nil {
			field := "until"
			if strings.HasPrefix(err.Error(), "from") {
				field = "from"
			}
			v.add(fmt.Sprintf("%s[%d].%s", joinField(path, "freezes"), j, field), "%v", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "from: "), "until: "))
		}
	}
	for point, names := range map[string][]string{"preRollout": p.Hooks.PreRollout, "postRollout": p.Hooks.PostRollout, "onRollback": p.Hooks.OnRollback} {
		for j, n := range names {
			if _, ok := a.Hook(n); !ok {
				v.add(fmt.Sprintf("%s[%d]", joinField(path, "hooks."+point), j), "%s", missingHook(a, n))
			}
		}
	}
	if pt := p.PerfTest; pt != nil {
		v.perfTest(joinField(path, "perfTest"), a, i, *pt)
	}
	for j, g := range p.Require {
		if g != GateRollbackTarget && g != GateMigrations && g != GateAlertRules {
			v.add(fmt.Sprintf("%s[%d]", joinField(path, "require"), j), "%q is not a checklist gate; use %s, %s or %s", g, GateRollbackTarget, GateMigrations, GateAlertRules)
		}
	}
}

func missingHook(a *App, name string) string {
	if len(a.Hooks) == 0 {
		return fmt.Sprintf("hook %q is not declared; declare it under the top-level hooks, such as hooks: [{name: %s, command: [./%s.sh]}]", name, name, name)
	}
	known := make([]string, len(a.Hooks))
	for i, h := range a.Hooks {
		known[i] = h.Name
	}
	msg := fmt.Sprintf("hook %q is not declared in hooks", name)
	if c, ok := closest(name, known); ok {
		return msg + fmt.Sprintf("; did you mean %s?", c)
	}
	return msg + "; declared hooks: " + strings.Join(known, ", ")
}

// perfTest checks a performance stage's numbers and that the environment
// keeps a new revision on a preview listener until promoted.
func (v *validator) perfTest(path string, a *App, i int, p PerfTest) {
	if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
		v.add(joinField(path, "path"), "%q must start with '/', such as %q", p.Path, "/"+p.Path)
	}
	if p.RequestsPerSecond < 0 || p.RequestsPerSecond > 10000 {
		v.add(joinField(path, "requestsPerSecond"), "must be between 1 and 10000, or 0 for the default (50), got %d", p.RequestsPerSecond)
	}
	if p.DurationSeconds < 0 || p.DurationSeconds > 3600 {
		v.add(joinField(path, "durationSeconds"), "must be between 1 and 3600, or 0 for the default (10), got %d", p.DurationSeconds)
	}
	if p.MaxP95Ratio != 0 && p.MaxP95Ratio <= 1 {
		v.add(joinField(path, "maxP95Ratio"), "must be above 1, or 0 for the default (2), got %g", p.MaxP95Ratio)
	}
	s := a.Spec.withOverrides(a.Environments[i])
	if s.StrategyType() != BlueGreen || s.Strategy.BlueGreen == nil || s.Strategy.BlueGreen.AutoPromote() {
		v.add(path, "a performance test runs against the new revision's preview, so environment %s needs strategy BlueGreen with blueGreen.autoPromotion: false", a.Environments[i].Name)
	}
}
