package spec

import (
	"time"

	"github.com/gantry-dev/gantry/calendar"
)

// EnvironmentPolicy is an environment's release policy: approvals,
// release windows and freezes, hooks, the performance test of pipeline
// runs, and which checklist gates block a deploy. The default strategy of
// an environment is its strategy field (environments[].strategy).
type EnvironmentPolicy struct {
	// Approval requires approvals of each version before it is deployed
	// here. Nil: none, except that in an environment named production a
	// rollout's promote needs an approver other than its requester (the
	// default four-eyes rule). Set, it replaces that rule here: promote
	// then needs Approval.Role and, unless AllowRequester, someone other
	// than the requester.
	Approval *ApprovalPolicy `json:"approval,omitempty"`
	// Windows are when deploys are allowed, in the calendar package's
	// grammar, such as "Sun 02:00-04:00 UTC". Empty: at any time.
	Windows []string `json:"windows,omitempty"`
	// Freezes are periods in which no deploy is allowed, windows or not.
	Freezes []FreezePeriod `json:"freezes,omitempty"`
	// Hooks name entries of the app's hooks to run at each point.
	Hooks HookPoints `json:"hooks,omitempty"`
	// PerfTest is the performance stage of pipeline runs here; nil: none.
	PerfTest *PerfTest `json:"perfTest,omitempty"`
	// Require lists the advisory checklist gates that also block a deploy
	// here: rollbackTarget, migrations, alertRules. The window, freeze,
	// approval, promotion and pre-rollout hook gates always block when
	// they apply. Empty: those three are shown but do not block (a rollout
	// whose migrations fail still ends RolledBack, MigrationFailed, with
	// the backup restored).
	Require []string `json:"require,omitempty"`
}

// Checklist gates that only block when listed in EnvironmentPolicy.Require.
const (
	GateRollbackTarget = "rollbackTarget"
	GateMigrations     = "migrations"
	GateAlertRules     = "alertRules"
)

// ApprovalPolicy is how many people must approve a version, with what role.
type ApprovalPolicy struct {
	// Role is the least role an approver holds on the environment:
	// approver or admin. Default approver.
	Role string `json:"role,omitempty"`
	// Approvals is how many different people must approve (1 to 10).
	// Default 1.
	Approvals int `json:"approvals,omitempty"`
	// AllowRequester lets the person who asks for the deploy count as one
	// of its approvers. Default false (four eyes).
	AllowRequester bool `json:"allowRequester,omitempty"`
	// Expiry is how long an approval stays valid, a duration such as 24h
	// (1m to 720h). Default 24h.
	Expiry string `json:"expiry,omitempty"`
}

// Default approval policy values.
const (
	DefaultApprovalRole   = "approver"
	DefaultApprovals      = 1
	DefaultApprovalExpiry = 24 * time.Hour
)

// RoleOrDefault returns Role, or approver when it is empty.
func (p ApprovalPolicy) RoleOrDefault() string {
	if p.Role == "" {
		return DefaultApprovalRole
	}
	return p.Role
}

// Count returns Approvals, or 1 when it is zero.
func (p ApprovalPolicy) Count() int { return positiveOr(p.Approvals, DefaultApprovals) }

// ExpiryDuration returns Expiry parsed, or 24h when it is empty or invalid.
func (p ApprovalPolicy) ExpiryDuration() time.Duration {
	if d, err := time.ParseDuration(p.Expiry); err == nil && d > 0 {
		return d
	}
	return DefaultApprovalExpiry
}

// FreezePeriod is a code freeze: no deploy from From until Until.
type FreezePeriod struct {
	// From is a date (2026-12-20, from 00:00 UTC) or an RFC 3339 time.
	From string `json:"from"`
	// Until is a date (frozen through that whole day, UTC) or an RFC 3339
	// time (the first instant after the freeze).
	Until string `json:"until"`
	// Reason is shown when a deploy is refused, such as "year-end freeze".
	Reason string `json:"reason,omitempty"`
}

// Calendar returns the policy's windows and freezes parsed; entries that
// do not parse (a spec that failed validation) are left out. A nil policy
// has the zero Calendar: always open.
func (p *EnvironmentPolicy) Calendar() calendar.Calendar {
	var c calendar.Calendar
	if p == nil {
		return c
	}
	for _, s := range p.Windows {
		if w, err := calendar.ParseWindow(s); err == nil {
			c.Windows = append(c.Windows, w)
		}
	}
	for _, f := range p.Freezes {
		if fr, err := calendar.ParseFreeze(f.From, f.Until, f.Reason); err == nil {
			c.Freezes = append(c.Freezes, fr)
		}
	}
	return c
}

// Requires says whether gate (GateRollbackTarget, GateMigrations, GateAlertRules) blocks.
func (p *EnvironmentPolicy) Requires(gate string) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Require {
		if g == gate {
			return true
		}
	}
	return false
}

// HookPoints name the hooks run at each point of a rollout.
type HookPoints struct {
	// PreRollout run before a rollout starts; one failing refuses it.
	PreRollout []string `json:"preRollout,omitempty"`
	// PostRollout run after a rollout succeeds.
	PostRollout []string `json:"postRollout,omitempty"`
	// OnRollback run when a rollout is rolled back.
	OnRollback []string `json:"onRollback,omitempty"`
}

// Hook is a command or an HTTP webhook that a policy runs. Exactly one of
// Command and Webhook is set.
type Hook struct {
	// Name is how policies refer to it (a DNS label).
	Name string `json:"name"`
	// Command is a program and its arguments, run in the spec's directory
	// with GANTRY_APP, GANTRY_ENV, GANTRY_VERSION and GANTRY_HOOK_POINT set;
	// it passes on exit status 0.
	Command []string `json:"command,omitempty"`
	// Webhook is POSTed a JSON description of the rollout; a 2xx passes.
	Webhook *Webhook `json:"webhook,omitempty"`
	// TimeoutSeconds bounds the hook (1 to 3600); reaching it fails the
	// hook. Default 10.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// DefaultHookTimeout is a hook's timeout when TimeoutSeconds is 0.
const DefaultHookTimeout = 10 * time.Second

// Timeout returns TimeoutSeconds as a duration, or DefaultHookTimeout.
func (h Hook) Timeout() time.Duration {
	if h.TimeoutSeconds <= 0 {
		return DefaultHookTimeout
	}
	return seconds(h.TimeoutSeconds)
}

// Webhook is an HTTP endpoint a hook POSTs to.
type Webhook struct {
	// URL is an http or https URL.
	URL string `json:"url"`
	// Secret, when set, signs each body with HMAC-SHA256: the header
	// X-Gantry-Signature carries "sha256=" and the hex digest, as GitHub
	// webhooks do. Only the reference is kept in gantry's state.
	Secret *ValueFrom `json:"secret,omitempty"`
}

// PerfTest is a pipeline run's performance stage: gantry's load generator
// sends RequestsPerSecond to the new revision's preview (and the same to
// the stable revision) for DurationSeconds, and the stage fails when the
// new revision's p95 latency is above MaxP95Ratio times the stable one's.
// It needs a BlueGreen strategy without autoPromotion, so the new revision
// waits on its preview listener.
type PerfTest struct {
	// Path is requested with GET, such as /api/ping. Default /.
	Path string `json:"path,omitempty"`
	// RequestsPerSecond to each revision (1 to 10,000). Default 50.
	RequestsPerSecond int `json:"requestsPerSecond,omitempty"`
	// DurationSeconds of the test (1 to 3600). Default 10.
	DurationSeconds int `json:"durationSeconds,omitempty"`
	// MaxP95Ratio is the highest allowed ratio of the new revision's p95
	// to the stable revision's (above 1). Default 2, the plan's threshold.
	MaxP95Ratio float64 `json:"maxP95Ratio,omitempty"`
}

// PerfTest defaults.
const (
	DefaultPerfRate     = 50
	DefaultPerfDuration = 10 * time.Second
	DefaultPerfMaxRatio = 2.0
)

// Target returns Path or "/".
func (p PerfTest) Target() string {
	if p.Path == "" {
		return "/"
	}
	return p.Path
}

// Rate returns RequestsPerSecond or DefaultPerfRate.
func (p PerfTest) Rate() int { return positiveOr(p.RequestsPerSecond, DefaultPerfRate) }

// Duration returns DurationSeconds as a duration, or DefaultPerfDuration.
func (p PerfTest) Duration() time.Duration {
	if p.DurationSeconds <= 0 {
		return DefaultPerfDuration
	}
	return seconds(p.DurationSeconds)
}

// MaxRatio returns MaxP95Ratio or DefaultPerfMaxRatio.
func (p PerfTest) MaxRatio() float64 {
	if p.MaxP95Ratio <= 0 {
		return DefaultPerfMaxRatio
	}
	return p.MaxP95Ratio
}

// ReleaseNotes says where a release's notes come from.
type ReleaseNotes struct {
	// Changelog is a Keep a Changelog style file, relative to the spec's
	// directory, such as CHANGELOG.md; a release's notes are the section
	// whose heading names its version ("## [1.4.0]" or "## 1.4.0").
	Changelog string `json:"changelog,omitempty"`
}

// Hook returns the hook called name.
func (a *App) Hook(name string) (Hook, bool) {
	for _, h := range a.Hooks {
		if h.Name == name {
			return h, true
		}
	}
	return Hook{}, false
}
