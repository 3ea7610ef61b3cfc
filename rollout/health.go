package rollout

import (
	"fmt"
	"strings"
	"time"
)

// HealthInput is what CheckHealth looks at.
type HealthInput struct {
	Now     time.Time
	Rollout Rollout
	// Target is the revision being rolled out.
	Target    Revision
	Instances []Instance
	// CrashLoopRestarts is how many restarts of one target instance make a crash loop.
	CrashLoopRestarts int
}

// HealthVerdict says whether a progressing rollout must be rolled back, and why.
type HealthVerdict struct {
	Rollback bool
	// Reason is ReasonCrashLoop or ReasonProgressDeadlineExceeded; Details
	// has the numbers and Message renders them.
	Reason  Reason
	Message string
	Details *Details
}

// CheckHealth decides whether the target revision is failing in a way every
// strategy rolls back for: one of its instances crash-loops, or the rollout
// made no progress within the spec's progressDeadlineSeconds.
func CheckHealth(in HealthInput) HealthVerdict {
	for _, i := range in.Instances {
		if i.Revision == in.Target.Number && i.Restarts >= in.CrashLoopRestarts {
			msg := fmt.Sprintf("instance %s of revision %d (%s) restarted %d times", i.ID, i.Revision, i.Version, i.Restarts)
			if i.LastExit != "" {
				msg += "; last exit: " + i.LastExit
			}
			return HealthVerdict{Rollback: true, Reason: ReasonCrashLoop, Message: msg, Details: &Details{Instance: &InstanceFacts{
				ID: i.ID, Revision: i.Revision, Version: i.Version, Restarts: i.Restarts, LastExit: i.LastExit,
			}}}
		}
	}
	deadline := in.Target.Spec.ProgressDeadline()
	if idle := in.Now.Sub(in.Rollout.LastProgressAt); idle > deadline {
		ready, total := targetReady(in.Instances, in.Target.Number)
		return HealthVerdict{
			Rollback: true,
			Reason:   ReasonProgressDeadlineExceeded,
			Details: &Details{Progress: &ProgressFacts{
				IdleSeconds: int(idle / time.Second), DeadlineSeconds: int(deadline / time.Second), Ready: ready, Total: total,
			}},
			Message: fmt.Sprintf("revision %d (%s) made no progress for %s (progressDeadlineSeconds %d): %s",
				in.Target.Number, in.Target.Version, idle.Round(time.Second), int(deadline/time.Second),
				describeTarget(in.Instances, in.Target.Number)),
		}
	}
	return HealthVerdict{}
}

// describeTarget summarizes the target's instances: "0/1 ready; i-3: Running, not ready".
func describeTarget(instances []Instance, target int) string {
	var total, ready int
	var parts []string
	for _, i := range instances {
		if i.Revision != target || i.State == Terminating {
			continue
		}
		total++
		if i.Ready {
			ready++
			continue
		}
		d := fmt.Sprintf("%s %s, not ready", i.ID, i.State)
		if i.LastExit != "" {
			d += " (last exit: " + i.LastExit + ")"
		}
		parts = append(parts, d)
	}
	s := fmt.Sprintf("%d/%d instance(s) ready", ready, total)
	if len(parts) > 0 {
		s += "; " + strings.Join(parts, "; ")
	}
	return s
}

// targetReady counts the target's instances that are not terminating, and
// the ready ones among them.
func targetReady(instances []Instance, target int) (ready, total int) {
	for _, i := range instances {
		if i.Revision != target || i.State == Terminating {
			continue
		}
		total++
		if i.Ready {
			ready++
		}
	}
	return ready, total
}
