package api

import (
	"net/http"
	"time"
)

// Alerts is the answer of GET /api/v1/alerts: every alert of the
// server's alert rules and every rule with its last evaluation.
type Alerts struct {
	// RuleFiles are the rule files loaded (gantry server --alert-rules); none: alerting is off.
	RuleFiles []string `json:"ruleFiles"`
	// Alerts: firing first, then pending, then resolved (kept 15 minutes).
	Alerts []Alert `json:"alerts"`
	// Rules are the loaded rules, gantry's built-in recording rules first.
	Rules []AlertRule `json:"rules"`
	// History is what the embedded alerting history keeps for the rules
	// and the PromQL checks; nil from a server that does not report it.
	History *AlertHistory `json:"history,omitempty"`
}

// AlertHistory describes the embedded alerting history: the series of
// gantry's own metrics that the alert rules and the PromQL checks of
// rollouts in progress read, kept in memory for a few minutes.
type AlertHistory struct {
	// Series is the series kept; MaxSeries the cap on them
	// (gantry server --alert-history-max-series, default 20000).
	Series    int `json:"series"`
	MaxSeries int `json:"maxSeries"`
	// Samples is the samples kept, of every series.
	Samples int `json:"samples"`
	// Bytes estimates the memory the series take (samples and labels).
	Bytes int64 `json:"bytes"`
	// DroppedSamples counts the samples of new series refused because
	// Series had reached MaxSeries, since the server started: rules and
	// checks over those series see no data.
	DroppedSamples uint64 `json:"droppedSamples"`
	// Full says the cap refuses new series now, since FullSince.
	Full      bool      `json:"full"`
	FullSince time.Time `json:"fullSince,omitzero"`
	// UnselectedSamples counts the samples of series nothing reads, not
	// kept, since the server started.
	UnselectedSamples uint64 `json:"unselectedSamples"`
}

// Alert is one alert: a rule and the label set its expression returned.
type Alert struct {
	Name string `json:"name"`
	// State is pending, firing or resolved.
	State string `json:"state"`
	// Rule is where the rule is, "file:line".
	Rule        string            `json:"rule"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Value is the expression's value at the last evaluation that returned it.
	Value      float64   `json:"value"`
	ActiveAt   time.Time `json:"activeAt"`
	FiredAt    time.Time `json:"firedAt,omitzero"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
}

// AlertRule is one loaded rule.
type AlertRule struct {
	// Name is the alert's or the recorded series' name; Kind "alert" or "record".
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Rule is where the rule is, "file:line"; Expr its PromQL.
	Rule string `json:"rule"`
	Expr string `json:"expr"`
	// ForSeconds is the rule's `for`, in seconds; 0: fires at once.
	ForSeconds float64 `json:"forSeconds,omitempty"`
	// LastEval is its last evaluation; LastError that evaluation's error, empty if none.
	LastEval  time.Time `json:"lastEval,omitzero"`
	LastError string    `json:"lastError,omitempty"`
}

func (h *handler) alerts(w http.ResponseWriter, _ *http.Request) {
	if h.opts.Alerts == nil {
		writeJSON(w, http.StatusOK, Alerts{RuleFiles: []string{}, Alerts: []Alert{}, Rules: []AlertRule{}})
		return
	}
	writeJSON(w, http.StatusOK, h.opts.Alerts())
}
