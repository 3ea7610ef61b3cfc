package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/alerting"
	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// alerts evaluates the server's alert rules over its own metrics.
type alerts struct {
	files []string
	ev    *alerting.Evaluator
}

// loadAlerts reads the rule files of opts (nothing when there are none).
// Every problem of every file is reported, with file and line.
func loadAlerts(opts Options, known func(receiver string) bool) ([]alerting.Rule, error) {
	if len(opts.AlertRules) == 0 {
		return nil, nil
	}
	rules, err := alerting.LoadRuleFiles(known, opts.AlertRules...)
	if err != nil {
		return nil, fmt.Errorf("--alert-rules: %w", err)
	}
	return rules, nil
}

// newAlerts builds the evaluator of rules over the metrics of reg; nil
// without rule files.
func (s *Server) newAlerts(rules []alerting.Rule, reg prometheus.Gatherer) (*alerts, error) {
	if len(s.opts.AlertRules) == 0 {
		return nil, nil
	}
	ev, err := alerting.New(alerting.Options{Rules: rules, Gatherer: reg, Interval: s.opts.AlertInterval,
		Observe: s.observeAlerts, Logf: s.opts.Logf, Now: s.opts.AlertClock, History: s.newHistory()})
	if err != nil {
		return nil, err
	}
	return &alerts{files: s.opts.AlertRules, ev: ev}, nil
}

// alertingRules counts the alerting rules of the rule files (not
// gantry's built-in recording rules).
func (a *alerts) alertingRules() int {
	n := 0
	for _, r := range a.ev.Rules() {
		if r.Alert != "" {
			n++
		}
	}
	return n
}

// alertList is the API's view of the alerts.
func (s *Server) alertList() api.Alerts {
	out := api.Alerts{RuleFiles: []string{}, Alerts: []api.Alert{}, Rules: []api.AlertRule{}, History: s.historyStats()}
	if s.alerts == nil {
		return out
	}
	out.RuleFiles = s.alerts.files
	for _, a := range s.alerts.ev.Alerts() {
		out.Alerts = append(out.Alerts, api.Alert{Name: a.Name, State: string(a.State), Rule: a.Rule, Labels: a.Labels,
			Annotations: a.Annotations, Value: a.Value, ActiveAt: a.ActiveAt, FiredAt: a.FiredAt, ResolvedAt: a.ResolvedAt})
	}
	for _, r := range s.alerts.ev.Rules() {
		kind := "alert"
		if r.Record != "" {
			kind = "record"
		}
		out.Rules = append(out.Rules, api.AlertRule{Name: r.Name(), Kind: kind, Rule: r.Where(), Expr: r.Expr,
			ForSeconds: r.For.Seconds(), LastEval: r.LastEval, LastError: r.LastError})
	}
	return out
}

// observeAlerts runs after every evaluation: it notifies the alerts
// that changed, and a firing alert that an
// environment's spec lists in analysis.abortOnAlerts aborts that
// environment's rollout when it concerns the new revision.
func (s *Server) observeAlerts(now time.Time, all []alerting.Alert, tr []alerting.Transition) {
	s.notifyAlerts(now, all, tr)
	engine := s.leading().engine
	if engine == nil {
		return
	}
	for _, a := range all {
		if a.State != alerting.Firing || a.Labels["app"] == "" || a.Labels["env"] == "" {
			continue
		}
		s.abortForAlert(engine, a)
	}
}

func (s *Server) abortForAlert(engine *rollout.Engine, a alerting.Alert) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	app, env := a.Labels["app"], a.Labels["env"]
	rs, err := s.store.ListRollouts(ctx, rollout.RolloutFilter{App: app, Env: env, Active: true, Limit: 1})
	if err != nil || len(rs) == 0 {
		return
	}
	target, err := s.store.GetRevision(ctx, app, env, rs[0].ToRevision)
	if err != nil {
		return
	}
	abort, why := alertAborts(a, rs[0], target)
	if !abort {
		return
	}
	if _, err := engine.Abort(ctx, rollout.CommandRequest{App: app, Env: env, Actor: "alert " + a.Name, Why: why}); err != nil {
		s.opts.Logf("alert %s: abort the rollout of %s in %s: %v", a.Name, app, env, err)
	}
}

// alertAborts decides whether firing alert a aborts rollout r, whose new
// revision is target: the spec of the new revision lists the alert in
// analysis.abortOnAlerts, and the alert is about the new revision (its
// revision or version label is the new one's; an alert with neither
// concerns the whole environment and does not abort).
func alertAborts(a alerting.Alert, r rollout.Rollout, target rollout.Revision) (bool, string) {
	if r.Phase.Final() || r.Phase == rollout.RollingBack {
		return false, "no rollout to abort"
	}
	an := target.Spec.Analysis
	if an == nil || !slices.Contains(an.AbortOnAlerts, a.Name) {
		return false, "the spec does not list " + a.Name + " in analysis.abortOnAlerts"
	}
	rev, ver := a.Labels["revision"], a.Labels["version"]
	if rev != strconv.Itoa(target.Number) && (ver == "" || ver != target.Version) {
		return false, fmt.Sprintf("alert %s is not about revision %d (%s)", a.Name, target.Number, target.Version)
	}
	why := fmt.Sprintf("alert %s (%s) firing since %s with value %g for revision %d (%s)",
		a.Name, a.Rule, a.FiredAt.UTC().Format(time.RFC3339), a.Value, target.Number, target.Version)
	if sum := a.Annotations["summary"]; sum != "" {
		why += ": " + sum
	}
	return true, why
}

// metricSource is Options.MetricSource, or the router's counters.
func (s *Server) metricSource(r rollout.MetricSource) rollout.MetricSource {
	if s.opts.MetricSource != nil {
		return s.opts.MetricSource
	}
	return r
}
