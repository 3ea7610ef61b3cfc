package gate

import (
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// Facts are everything the gates of one deploy decide on, gathered
// before Evaluate runs.
type Facts struct {
	Version string
	// Requester is who asks for the deploy (the token's name).
	Requester string
	Now       time.Time
	// Env is the environment as the applied spec declares it.
	Env spec.Environment
	// Proof is the promotion proof when Env.PromoteFrom is set.
	Proof Proof
	// Approvals are the version's approvals in the environment.
	Approvals []Approval
	// Stable and StableVersion are the environment's stable revision (0:
	// none).
	Stable        int
	StableVersion string
	// HasDatabase, Migrations and MigrationsErr are the migration facts.
	HasDatabase   bool
	Migrations    int
	MigrationsErr error
	// Alerts is the monitoring side's fact about alert rules.
	Alerts AlertFact
	// Hooks are the pre-rollout hooks' outcomes, in policy order.
	Hooks []HookOutcome
	// Override is the emergency override's reason; empty: none. It lets
	// the window, freeze and promotion gates through, never approvals.
	Override string
}

// Evaluate runs every gate that applies to the environment, in a fixed
// order: window, promotion, approval, rollback target, migrations, alert
// rules, then each pre-rollout hook.
func Evaluate(f Facts) Checklist {
	p := f.Env.Policy
	var c Checklist
	c = append(c, CheckWindow(p.Calendar(), f.Now, f.Override))
	if f.Env.PromoteFrom != "" {
		proof := f.Proof
		proof.From = f.Env.PromoteFrom
		c = append(c, CheckPromotion(f.Version, proof, f.Override))
	}
	if p != nil && p.Approval != nil {
		c = append(c, CheckApprovals(ApprovalPolicy{Count: p.Approval.Count(), Expiry: p.Approval.ExpiryDuration(),
			AllowRequester: p.Approval.AllowRequester}, f.Requester, f.Approvals, f.Now))
	}
	c = append(c, CheckRollbackTarget(f.Stable, f.StableVersion, p.Requires(spec.GateRollbackTarget)))
	c = append(c, CheckMigrations(f.HasDatabase, f.Migrations, f.MigrationsErr, p.Requires(spec.GateMigrations)))
	c = append(c, CheckAlertRules(f.Alerts, p.Requires(spec.GateAlertRules)))
	for _, h := range f.Hooks {
		c = append(c, CheckHook(h))
	}
	return c
}
