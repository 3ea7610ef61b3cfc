package api

import (
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// ApplyRequest carries a gantry.yaml document to POST /api/v1/apps.
type ApplyRequest struct {
	// Filename is used in error positions, such as "gantry.yaml".
	Filename string `json:"filename"`
	// Source is the document's YAML text.
	Source string `json:"source"`
}

// ApplyResponse says what was applied.
type ApplyResponse struct {
	App          string   `json:"app"`
	Environments []string `json:"environments"`
	// Created is true for a new app, false when an existing one was replaced.
	Created bool `json:"created"`
	// Warnings are problems that do not stop the apply but would stop a
	// deploy, such as a local workload command the server cannot run.
	Warnings []*spec.FieldError `json:"warnings,omitempty"`
}

// DeployRequest is the body of POST .../deploy.
type DeployRequest struct {
	Version string `json:"version"`
	// DryRun checks the environment's gates and deploys nothing.
	DryRun bool `json:"dryRun,omitempty"`
	// OverrideReason, in an emergency, lets the deploy past a failing
	// window, freeze or promotion gate; it is kept in the audit log.
	OverrideReason string `json:"overrideReason,omitempty"`
}

// UndoRequest is the body of POST .../undo. ToRevision 0 means the
// revision that was stable before the current one.
type UndoRequest struct {
	ToRevision int `json:"toRevision,omitempty"`
}

// CommandBody is the body of POST .../promote, abort, pause, resume and retry.
type CommandBody struct {
	// Reason is why, recorded with the event.
	Reason string `json:"reason,omitempty"`
	// Full, for promote: skip every remaining step.
	Full bool `json:"full,omitempty"`
}

// Status is an app's state in one environment.
type Status struct {
	App string `json:"app"`
	Env string `json:"env"`
	// ProxyAddr is where the environment's traffic enters.
	ProxyAddr string `json:"proxyAddr,omitempty"`
	// DataPlane is the health of the process serving the environment's
	// listeners (`gantry proxy`); nil when the server runs it in process.
	DataPlane *DataPlane `json:"dataPlane,omitempty"`
	// Stable is the revision that serves when no rollout runs; 0: none.
	Stable int `json:"stable"`
	// Rollout is the latest rollout, nil before the first deploy.
	Rollout *rollout.Rollout `json:"rollout,omitempty"`
	// Waiting says whom a paused rollout waits for where the environment
	// requires a second person's approval (four-eyes); empty otherwise.
	Waiting   string           `json:"waiting,omitempty"`
	Revisions []RevisionStatus `json:"revisions"`
	// Unrouted counts requests the proxy answered 503 because no instance
	// of any revision was ready (or the environment was in maintenance).
	Unrouted uint64 `json:"unrouted,omitempty"`
	// Conditions are lasting problems of the environment, such as
	// StoreWriteFailing while its state cannot be written; none: healthy.
	Conditions []rollout.Condition `json:"conditions,omitempty"`
	// Analysis is the running rollout's analysis as it stands: each check's
	// current value against its threshold, updated about once a second;
	// nil when none is judged now (no rollout running, a strategy without
	// analysis, or a server that does not lead).
	Analysis *rollout.LiveAnalysis `json:"analysis,omitempty"`
}

// DataPlane is the health of the data plane (`gantry proxy`) as the
// leading server last saw it.
type DataPlane struct {
	// State is Up, Stale (its process does not answer) or Down (no
	// process; the server is starting one). New rollouts are refused
	// unless Up.
	State string `json:"state"`
	// PID and Boot name its process and run; Boot changes when it restarts.
	PID  int    `json:"pid"`
	Boot string `json:"boot"`
	// Since is when State began.
	Since time.Time `json:"since"`
	// Reason explains the state, or the last restart.
	Reason string `json:"reason,omitempty"`
	// Restarts counts the crashed data planes the server replaced; Lost the
	// requests in flight in the last one that crashed.
	Restarts int   `json:"restarts,omitempty"`
	Lost     int64 `json:"lost,omitempty"`
	// LastCrash is the last crash of the data plane process and what it
	// cost; nil before any.
	LastCrash *rollout.DataPlaneCrash `json:"lastCrash,omitempty"`
	// StandbyPID is the warm standby's process (`gantry proxy --standby`),
	// which takes over at once if this one dies; 0: none running (turned
	// off with --no-proxy-standby, or being started).
	StandbyPID int `json:"standbyPid,omitempty"`
}

// RevisionStatus is one revision's instances and traffic.
type RevisionStatus struct {
	Number int `json:"number"`
	// Group is the group of the revision's instances listed here:
	// "baseline" for a canary's like-for-like baseline (fresh instances of
	// the stable revision the canary is compared with), listed apart;
	// empty for the revision's serving instances.
	Group     string             `json:"group,omitempty"`
	Version   string             `json:"version"`
	Instances []rollout.Instance `json:"instances"`
	Traffic   RevisionTraffic    `json:"traffic"`
	// Scrapes are the last scrapes of the instances' own metrics, one per
	// instance (spec.metrics.scrape); none when the spec asks for none.
	Scrapes []ScrapeStatus `json:"scrapes,omitempty"`
}

// Name is how displays name the entry: "3", or "3 baseline" for a group.
func (rs RevisionStatus) Name() string {
	if rs.Group == "" {
		return strconv.Itoa(rs.Number)
	}
	return strconv.Itoa(rs.Number) + " " + rs.Group
}

// RevisionTraffic is what the proxy saw of one revision since it started.
type RevisionTraffic struct {
	Revision int `json:"revision"`
	// Group is as in RevisionStatus: "baseline" or empty.
	Group string `json:"group,omitempty"`
	// Weight is the revision's current share of new requests, in percent.
	Weight   float64 `json:"weight"`
	Requests uint64  `json:"requests"`
	// Errors counts 5xx answers, from the instances or from the proxy.
	Errors uint64 `json:"errors"`
	// ClientClosed counts requests whose client went away first (499).
	ClientClosed uint64 `json:"clientClosed"`
	InFlight     int64  `json:"inFlight"`
	// Latency quantiles in milliseconds.
	P50 float64 `json:"p50Ms"`
	P95 float64 `json:"p95Ms"`
	P99 float64 `json:"p99Ms"`
	// ActiveUsers is the estimated number of distinct users over the last
	// window (spec.metrics.activeUsers; gantry_active_users); 0 when none.
	ActiveUsers float64 `json:"activeUsers"`
}

// HistoryEntry is one rollout with the versions it moved between.
type HistoryEntry struct {
	rollout.Rollout
	FromVersion string `json:"fromVersion,omitempty"`
	ToVersion   string `json:"toVersion"`
	// FromPruned and ToPruned say the revision was deleted by the
	// revision history limit, so its version is no longer known.
	FromPruned bool `json:"fromPruned,omitempty"`
	ToPruned   bool `json:"toPruned,omitempty"`
}

// AppSummary lists an applied app.
type AppSummary struct {
	Name         string   `json:"name"`
	Environments []string `json:"environments"`
	Spec         spec.App `json:"spec"`
}

// Error is the body of every error response.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details lists every problem of an invalid spec.
	Details []*spec.FieldError `json:"details,omitempty"`
	// Gates are every gate's result of a refused deploy (code
	// refused_by_gate).
	Gates gate.Checklist `json:"gates,omitempty"`
}

// ErrorBody wraps Error as {"error": {...}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error codes.
const (
	CodeBadRequest  = "bad_request"
	CodeInvalidSpec = "invalid_spec"
	CodeNotFound    = "not_found"
	CodeConflict    = "conflict"
	CodeTooLarge    = "body_too_large"
	CodeInternal    = "internal"
)
