package strategy

import (
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func TestCanary_PlanSetFlag(t *testing.T) {
	s := canarySpec(4, setWeight(25), spec.CanaryStep{SetFlag: &spec.SetFlagStep{Name: "new-ai-agent", Percentage: 30}}, pause(""))
	plan := Canary{}.Plan(rollout.PlanInput{Spec: s, Target: 2, Stable: 1, Step: 1, Revisions: []rollout.RevisionCount{up(1, 4), up(2, 1)}})
	if plan.SetFlag == nil || plan.SetFlag.Name != "new-ai-agent" || plan.SetFlag.Percentage != 30 {
		t.Fatalf("plan.SetFlag = %+v, want new-ai-agent 30%%", plan.SetFlag)
	}
	if plan.Step != 1 || plan.Traffic.Weights[2] != 25 || plan.Replicas[2] != 1 {
		t.Errorf("plan = %+v; want step 1 kept (the engine moves on once the flag is set) at the previous weight, 25%%", plan)
	}
	if got := (Canary{}).Describe(s).Steps[1]; got != "setFlag new-ai-agent 30%" {
		t.Errorf("step name = %q, want setFlag new-ai-agent 30%%", got)
	}
}
