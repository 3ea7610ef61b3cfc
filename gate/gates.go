package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/calendar"
)

// CheckWindow is the release window and code-freeze gate: it passes when
// cal allows a change at now; otherwise it fails with the next opening in
// its reason, or, when override is a non-empty reason, is Overridden.
func CheckWindow(cal calendar.Calendar, now time.Time, override string) Result {
	v := cal.Check(now)
	if v.Open {
		return Result{Gate: WindowGate, Status: Pass, Reason: v.Reason}
	}
	if override != "" {
		return Result{Gate: WindowGate, Status: Overridden, Reason: fmt.Sprintf("%s; overridden: %s", v.Reason, override), Next: v.Next}
	}
	return Result{Gate: WindowGate, Status: Fail, Next: v.Next,
		Reason: v.Reason + "; wait for it, or deploy with --override-reason \"…\" in an emergency (audited)"}
}

// Proof is what the environment a version is promoted from says about it.
type Proof struct {
	// From is the environment, such as staging.
	From string
	// Revision is the number of From's revision that ran the version and
	// succeeded; 0: the version never succeeded there.
	Revision int
	// SpecChanged: the app's applied spec for From differs from what that
	// revision ran (the spec was applied again since), so the proof is of
	// another spec.
	SpecChanged bool
	// Digest is the digest of the proven revision's resolved spec.
	Digest string
	// SucceededAt is when its rollout succeeded.
	SucceededAt time.Time
}

// CheckPromotion is the promotion gate of an environment that promotes
// from another: the version must have succeeded there with the spec now
// applied. An override reason lets an unproven version through.
func CheckPromotion(version string, p Proof, override string) Result {
	var why string
	switch {
	case p.Revision == 0:
		why = fmt.Sprintf("version %s never succeeded in %s; deploy it there first (gantry pipeline run walks the environments in order)", version, p.From)
	case p.SpecChanged:
		why = fmt.Sprintf("version %s succeeded in %s as revision %d, but the app's spec was applied again since; deploy it to %s again with this spec first", version, p.From, p.Revision, p.From)
	default:
		return Result{Gate: PromotionGate, Status: Pass, Reason: fmt.Sprintf("version %s succeeded in %s as revision %d at %s (spec %s)",
			version, p.From, p.Revision, p.SucceededAt.UTC().Format(time.RFC3339), short(p.Digest))}
	}
	if override != "" {
		return Result{Gate: PromotionGate, Status: Overridden, Reason: why + "; overridden: " + override}
	}
	return Result{Gate: PromotionGate, Status: Fail, Reason: why + ", or pass --override-reason \"…\" in an emergency (audited)"}
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

// Approval is one person's approval of a version in an environment.
type Approval struct {
	App     string `json:"app"`
	Env     string `json:"env"`
	Version string `json:"version"`
	// Approver is the approving token's name.
	Approver string `json:"approver"`
	// Comment is what the approver wrote; may be empty.
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// ApprovalPolicy is what CheckApprovals needs of spec.ApprovalPolicy.
type ApprovalPolicy struct {
	// Count is how many different approvers are needed (at least 1).
	Count int
	// Expiry is how long an approval counts.
	Expiry time.Duration
	// AllowRequester lets the requester's own approval count.
	AllowRequester bool
}

// CheckApprovals is the approval gate: at least p.Count different people
// approved the version within p.Expiry before now, not counting the
// requester unless p.AllowRequester. Approvals of other versions or
// environments are ignored; roles were checked when they were given.
func CheckApprovals(p ApprovalPolicy, requester string, approvals []Approval, now time.Time) Result {
	seen := map[string]bool{}
	var valid []string
	var expired, self int
	for _, a := range approvals {
		who := strings.ToLower(strings.TrimSpace(a.Approver))
		switch {
		case who == "" || seen[who]:
			continue
		case !p.AllowRequester && strings.EqualFold(who, strings.TrimSpace(requester)):
			self++
			continue
		case now.Sub(a.At) > p.Expiry:
			expired++
			continue
		}
		seen[who] = true
		valid = append(valid, a.Approver)
	}
	if len(valid) >= p.Count {
		return Result{Gate: ApprovalGate, Status: Pass, Reason: fmt.Sprintf("approved by %s (%d of %d needed)", strings.Join(valid, ", "), len(valid), p.Count)}
	}
	var notes []string
	if self > 0 {
		notes = append(notes, fmt.Sprintf("%s's own approval does not count (four eyes)", requester))
	}
	if expired > 0 {
		notes = append(notes, fmt.Sprintf("%d approval(s) older than %s expired", expired, p.Expiry))
	}
	reason := fmt.Sprintf("%d of %d approval(s)", len(valid), p.Count)
	if len(valid) > 0 {
		reason += " (" + strings.Join(valid, ", ") + ")"
	}
	if len(notes) > 0 {
		reason += "; " + strings.Join(notes, "; ")
	}
	return Result{Gate: ApprovalGate, Status: Fail, Reason: reason + "; another person with the approver role runs gantry approve"}
}

// CheckRollbackTarget passes when the environment has a stable revision
// to roll back to (stable > 0). Advisory unless required.
func CheckRollbackTarget(stable int, stableVersion string, required bool) Result {
	if stable > 0 {
		return Result{Gate: RollbackGate, Status: Pass, Reason: fmt.Sprintf("revision %d (%s) is stable and kept for rollback", stable, stableVersion)}
	}
	return Result{Gate: RollbackGate, Status: Fail, Advisory: !required,
		Reason: "no stable revision to roll back to: this is the environment's first release"}
}

// CheckMigrations is the database gate: validateErr is the migrate
// package's validation of the app's migrations (nil: valid). hasDatabase
// false: the app declares none, and the gate passes. Advisory unless
// required: the rollout's own migration step fails safely (backup
// restored) on what this gate foresees.
func CheckMigrations(hasDatabase bool, pending int, validateErr error, required bool) Result {
	switch {
	case !hasDatabase:
		return Result{Gate: MigrationsGate, Status: Pass, Reason: "the app declares no database"}
	case validateErr != nil:
		return Result{Gate: MigrationsGate, Status: Fail, Advisory: !required, Reason: "migrations do not validate: " + validateErr.Error()}
	}
	return Result{Gate: MigrationsGate, Status: Pass, Reason: fmt.Sprintf("migrations validate (%d script(s) found)", pending)}
}

// AlertFact is what the monitoring side knows of an environment's alert
// rules.
type AlertFact struct {
	// Known: a source of alert rules is wired into the server.
	Known bool
	// Rules is how many alert rules apply to the app in the environment.
	Rules int
}

// CheckAlertRules passes when at least one alert rule watches the app in
// the environment. Advisory unless required.
func CheckAlertRules(f AlertFact, required bool) Result {
	switch {
	case !f.Known:
		return Result{Gate: AlertRulesGate, Status: Fail, Advisory: !required, Reason: "this server loads no alert rules (gantry server --alert-rules), so none watches the release"}
	case f.Rules == 0:
		return Result{Gate: AlertRulesGate, Status: Fail, Advisory: !required, Reason: "no alert rule watches this app in this environment; add alert rules before releasing"}
	}
	return Result{Gate: AlertRulesGate, Status: Pass, Reason: fmt.Sprintf("%d alert rule(s) configured", f.Rules)}
}

// HookOutcome is what running one hook gave.
type HookOutcome struct {
	Name string `json:"name"`
	// Err is nil when the hook passed.
	Err error `json:"-"`
	// Detail says what was seen: "exit 0 in 12ms", "HTTP 204 in 3ms".
	Detail string `json:"detail"`
}

// CheckHook is a pre-rollout hook's gate: it fails with the hook's error.
func CheckHook(o HookOutcome) Result {
	if o.Err != nil {
		return Result{Gate: HookPrefix + o.Name, Status: Fail, Reason: o.Err.Error()}
	}
	return Result{Gate: HookPrefix + o.Name, Status: Pass, Reason: o.Detail}
}
