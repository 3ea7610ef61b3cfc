package sqlstore

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/gantry-dev/gantry/rollout"
)

// Details encodes d for a JSON column: nil (NULL) for nil d. Numbers JSON
// cannot hold (NaN, ±Inf, which an analysis finding may carry) are
// written as the nearest finite value (0 for NaN), so recording a decision
// never fails for its numbers.
func Details(d *rollout.Details) (any, error) {
	if d == nil {
		return nil, nil
	}
	if len(d.Analysis) > 0 {
		c := *d
		c.Analysis = append(c.Analysis[:0:0], d.Analysis...)
		for i := range c.Analysis {
			c.Analysis[i].Observed = finite(c.Analysis[i].Observed)
			c.Analysis[i].Threshold = finite(c.Analysis[i].Threshold)
		}
		d = &c
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode details: %w", err)
	}
	return string(b), nil
}

func finite(f float64) float64 {
	switch {
	case math.IsNaN(f):
		return 0
	case math.IsInf(f, 1):
		return math.MaxFloat64
	case math.IsInf(f, -1):
		return -math.MaxFloat64
	}
	return f
}

// DecodeDetails reads a JSON column written by Details; NULL is nil.
func DecodeDetails(b []byte) (*rollout.Details, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var d rollout.Details
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode details: %w", err)
	}
	return &d, nil
}

// StoredDetails returns d as a read gives it back.
func StoredDetails(d *rollout.Details) (*rollout.Details, error) {
	v, err := Details(d)
	if err != nil || v == nil {
		return nil, err
	}
	return DecodeDetails([]byte(v.(string)))
}

// Phase encodes p for a phase column: its name, "" for the zero phase.
func Phase(p rollout.Phase) string {
	if p == 0 {
		return ""
	}
	return p.String()
}

// ParsePhase reads a phase column written by Phase.
func ParsePhase(s string) (rollout.Phase, error) {
	if s == "" {
		return 0, nil
	}
	return rollout.ParsePhase(s)
}

// EventFacts sets e's transition phases and details from their columns.
func EventFacts(e *rollout.Event, from, to string, details []byte) error {
	var err error
	if e.From, err = ParsePhase(from); err != nil {
		return fmt.Errorf("event %d: %w", e.ID, err)
	}
	if e.To, err = ParsePhase(to); err != nil {
		return fmt.Errorf("event %d: %w", e.ID, err)
	}
	if e.Details, err = DecodeDetails(details); err != nil {
		return fmt.Errorf("event %d: %w", e.ID, err)
	}
	return nil
}
