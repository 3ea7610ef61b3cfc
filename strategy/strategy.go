package strategy

import (
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// All returns every strategy gantry ships, by the spec.strategy.type that
// selects it. A new strategy is a file in this package, a line here, and
// its type and settings in package spec; the engine and the router learn
// what they need of it from its Description.
func All() map[spec.StrategyType]rollout.Strategy {
	return map[spec.StrategyType]rollout.Strategy{
		spec.RollingUpdate: Rolling{},
		spec.Canary:        Canary{},
		spec.BlueGreen:     BlueGreen{},
	}
}

// Describe describes the strategy a resolved spec selects; ok is false
// when gantry has no strategy of that type.
func Describe(s spec.AppSpec) (d rollout.Description, ok bool) {
	st, ok := All()[s.StrategyType()]
	if !ok {
		return rollout.Description{}, false
	}
	return st.Describe(s), true
}
