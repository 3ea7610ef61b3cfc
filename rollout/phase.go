package rollout

import "fmt"

// Phase is where a rollout is in its life.
type Phase int

// The phases of a rollout. Succeeded, RolledBack, Failed and Aborted are final.
const (
	// Pending: created, not yet acted on.
	Pending Phase = iota + 1
	// Progressing: the strategy is moving instances and traffic to the new revision.
	Progressing
	// Paused: waiting for `rollout resume` or `rollout promote`.
	Paused
	// RollingBack: returning instances and traffic to the stable revision.
	RollingBack
	// Succeeded: the new revision is stable and serves all traffic.
	Succeeded
	// RolledBack: the new revision was removed; the stable one serves all traffic.
	RolledBack
	// Failed: the rollout could neither finish nor roll back; it needs a person.
	Failed
	// Aborted: stopped by a user; the stable revision serves all traffic.
	Aborted
	// Superseded: replaced by a newer rollout of the same app and environment.
	Superseded
	// Migrating: the app's database is being backed up and migrated, in the
	// background, before the new revision starts; the stable revision serves.
	Migrating
)

var phaseNames = map[Phase]string{
	Pending:     "Pending",
	Progressing: "Progressing",
	Paused:      "Paused",
	RollingBack: "RollingBack",
	Succeeded:   "Succeeded",
	RolledBack:  "RolledBack",
	Failed:      "Failed",
	Aborted:     "Aborted",
	Superseded:  "Superseded",
	Migrating:   "Migrating",
}

// String returns the phase's name, such as "Progressing".
func (p Phase) String() string {
	if s, ok := phaseNames[p]; ok {
		return s
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Final reports whether the rollout has ended.
func (p Phase) Final() bool {
	switch p {
	case Succeeded, RolledBack, Failed, Aborted, Superseded:
		return true
	}
	return false
}

// ParsePhase reads a phase name as String writes it.
func ParsePhase(s string) (Phase, error) {
	for p, n := range phaseNames {
		if n == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown rollout phase %q", s)
}

// MarshalText writes the phase's name.
func (p Phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a phase name.
func (p *Phase) UnmarshalText(b []byte) error {
	v, err := ParsePhase(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
