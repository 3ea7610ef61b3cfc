package sqlstore

import (
	"math"
	"testing"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/rollout"
)

// TestDetails_nonFinite checks that a finding with numbers JSON cannot
// hold is still stored (a rollback must never fail to record), and that
// the caller's details are left as they were.
func TestDetails_nonFinite(t *testing.T) {
	in := &rollout.Details{Analysis: []analysis.Reason{
		{Trigger: analysis.LatencyRatio, Observed: math.Inf(1), Threshold: math.NaN()},
		{Trigger: analysis.ErrorRate, Observed: 0.07, Threshold: 0.05},
	}}
	got, err := StoredDetails(in)
	if err != nil {
		t.Fatalf("StoredDetails: %v", err)
	}
	if r := got.Analysis[0]; r.Observed != math.MaxFloat64 || r.Threshold != 0 {
		t.Errorf("stored %+v, want Observed MaxFloat64 and Threshold 0", r)
	}
	if r := got.Analysis[1]; r.Observed != 0.07 || r.Threshold != 0.05 {
		t.Errorf("stored %+v, want the finite numbers as they were", r)
	}
	if !math.IsInf(in.Analysis[0].Observed, 1) {
		t.Errorf("the caller's details changed: %+v", in.Analysis[0])
	}
}

func TestPhase_roundTrip(t *testing.T) {
	for _, p := range []rollout.Phase{0, rollout.Pending, rollout.RollingBack, rollout.Migrating} {
		got, err := ParsePhase(Phase(p))
		if err != nil || got != p {
			t.Errorf("ParsePhase(Phase(%v)) = %v, %v; want %v", p, got, err, p)
		}
	}
	if _, err := ParsePhase("Sideways"); err == nil {
		t.Error("ParsePhase(Sideways): no error")
	}
}
