package analysis

import (
	"fmt"
	"math"
	"time"
)

// State is an Analyzer's evidence as plain data (JSON-ready), so that a
// rollout's analysis survives a restart of gantry or a change of leader:
// Restore(cfg, a.State()) continues exactly where a stopped, with the
// same e-values, window, warm-up and counters, and gives the same verdicts
// to the same observations. A State is only meaningful with the Config it
// was taken under.
type State struct {
	// Version is the layout's version; Restore refuses another.
	Version int `json:"version"`
	// Tests holds each e-process's log likelihood ratios and peak, by name.
	Tests map[string]TestState `json:"tests"`
	// Total and Step are the compared counts, since the start and in the
	// current step.
	Total StateTotals `json:"total"`
	Step  StepState   `json:"step"`
	// Window is the sliding window of the threshold triggers, oldest first.
	Window []WindowSlot `json:"window,omitempty"`
	// Last is the last observation's time; zero: none yet.
	Last time.Time `json:"last,omitzero"`
	// CanaryWarm and BaselineWarm are the groups' warm-ups.
	CanaryWarm   WarmState `json:"canaryWarm"`
	BaselineWarm WarmState `json:"baselineWarm"`
	// MemRun, CPURun and DepRun are the consecutive-breach counters.
	MemRun int `json:"memRun,omitempty"`
	CPURun int `json:"cpuRun,omitempty"`
	DepRun int `json:"depRun,omitempty"`
	// BaselineUnheard is since when the baseline's instances have not
	// answered their health check; zero: not waiting for them.
	BaselineUnheard time.Time `json:"baselineUnheard,omitzero"`
	// LatencyKnown: some observation carried latencies.
	LatencyKnown bool `json:"latencyKnown,omitempty"`
	// Rollback is the final verdict, once given.
	Rollback *Verdict `json:"rollback,omitempty"`
}

// stateVersion is State.Version as this gantry writes it.
const stateVersion = 1

// TestState is one e-process: its components' log likelihood ratios and
// the largest log e-value seen.
type TestState struct {
	LogLR []float64 `json:"logLR"`
	Peak  float64   `json:"peak"`
}

// StateTotals are compared request, error and slow-request counts.
type StateTotals struct {
	CanaryReq, CanaryErr, BaseReq, BaseErr           uint64
	CanarySlow, BaseSlow, CanarySlowReq, BaseSlowReq uint64
	CanaryMed, BaseMed, CanaryMedReq, BaseMedReq     uint64
}

// StepState is the current step's evidence for Promote.
type StepState struct {
	Number                             int
	Totals                             StateTotals
	SawLatency                         bool
	ErrShown, ErrFloorShown, SlowShown bool
	ErrLogE, FloorLogE, SlowLogE       float64
	ErrFound, SlowFound                *Reason `json:",omitempty"`
}

// WindowSlot is one observation's contribution to the sliding window.
type WindowSlot struct {
	At                                 time.Time
	CanaryReq, Errs, BaseReq, BaseErrs uint64
	LatReq, LatOver, BaseLatReq        uint64
	BaseQ, BaseSlowQ, BaseMedQ         float64
}

// WarmState is a group's warm-up: since when its newest instance is
// ready, the requests served since, its ready count and the last
// observation's time.
type WarmState struct {
	Since  time.Time `json:"since,omitzero"`
	Served uint64    `json:"served,omitempty"`
	Ready  int       `json:"ready,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// tests names the Analyzer's e-processes for State.Tests.
func (a *Analyzer) tests() map[string]*mixture {
	return map[string]*mixture{
		"errTest": &a.errTest.m, "slowCmp": &a.slowCmp.m, "slowOver": &a.slowOver.m, "medCmp": &a.medCmp.m, "medOver": &a.medOver.m,
		"errMargin": &a.errMargin.m, "errFloor": &a.errFloor.m, "slowUnder": &a.slowUnder.m, "slowMargin": &a.slowMargin.m,
	}
}

// State returns the analyzer's evidence so far.
func (a *Analyzer) State() State {
	s := State{Version: stateVersion, Tests: map[string]TestState{}, Total: exportTotals(a.total),
		CanaryWarm: exportWarm(a.canaryWarm), BaselineWarm: exportWarm(a.baseWarm),
		MemRun: a.memRun, CPURun: a.cpuRun, DepRun: a.depRun, BaselineUnheard: a.baseUnheard, LatencyKnown: a.latencyKnown, Rollback: a.rollback}
	for name, m := range a.tests() {
		t := TestState{LogLR: make([]float64, len(m.logLR)), Peak: m.peak}
		for i, l := range m.logLR {
			// JSON has no -Inf (a ruled-out component); the most negative
			// float weighs the same in the mixture.
			t.LogLR[i] = max(l, -math.MaxFloat64)
		}
		s.Tests[name] = t
	}
	if a.begun {
		s.Last = a.last
	}
	st := a.step
	s.Step = StepState{Number: st.number, Totals: exportTotals(st.totals), SawLatency: st.sawLatency,
		ErrShown: st.errShown, ErrFloorShown: st.errFloorShown, SlowShown: st.slowShown,
		ErrLogE: st.errLogE, FloorLogE: st.floorLogE, SlowLogE: st.slow, ErrFound: st.errFound, SlowFound: st.slowFound}
	for _, w := range a.slots[a.head:] {
		s.Window = append(s.Window, WindowSlot{At: w.at, CanaryReq: w.canaryReq, Errs: w.errs, BaseReq: w.baseReq, BaseErrs: w.baseErrs,
			LatReq: w.latReq, LatOver: w.latOver, BaseLatReq: w.baseLatReq, BaseQ: w.baseQ, BaseSlowQ: w.baseSlowQ, BaseMedQ: w.baseMedQ})
	}
	return s
}

// Restore returns an Analyzer for cfg that continues from s. It returns an
// error when cfg is invalid or s does not fit it (another layout version,
// or e-processes of another size).
func Restore(cfg Config, s State) (*Analyzer, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("analysis state: version %d, want %d", s.Version, stateVersion)
	}
	for name, m := range a.tests() {
		t, ok := s.Tests[name]
		if !ok {
			// A test this gantry added since the state was stored (the
			// median's): it starts now, which keeps it valid.
			continue
		}
		if len(t.LogLR) != len(m.logLR) {
			return nil, fmt.Errorf("analysis state: test %s of another size", name)
		}
		copy(m.logLR, t.LogLR)
		m.peak = t.Peak
	}
	a.total = importTotals(s.Total)
	st := s.Step
	a.step = stepState{number: st.Number, totals: importTotals(st.Totals), sawLatency: st.SawLatency,
		errShown: st.ErrShown, errFloorShown: st.ErrFloorShown, slowShown: st.SlowShown,
		errLogE: st.ErrLogE, floorLogE: st.FloorLogE, slow: st.SlowLogE, errFound: st.ErrFound, slowFound: st.SlowFound}
	for _, w := range s.Window {
		a.slots = append(a.slots, slot{at: w.At, canaryReq: w.CanaryReq, errs: w.Errs, baseReq: w.BaseReq, baseErrs: w.BaseErrs,
			latReq: w.LatReq, latOver: w.LatOver, baseLatReq: w.BaseLatReq, baseQ: w.BaseQ, baseSlowQ: w.BaseSlowQ, baseMedQ: w.BaseMedQ})
	}
	a.begun, a.last = !s.Last.IsZero(), s.Last
	a.canaryWarm, a.baseWarm = importWarm(s.CanaryWarm), importWarm(s.BaselineWarm)
	a.memRun, a.cpuRun, a.depRun = s.MemRun, s.CPURun, s.DepRun
	a.baseUnheard = s.BaselineUnheard
	a.latencyKnown, a.rollback = s.LatencyKnown, s.Rollback
	return a, nil
}

func exportTotals(t totals) StateTotals {
	return StateTotals{CanaryReq: t.canaryReq, CanaryErr: t.canaryErr, BaseReq: t.baseReq, BaseErr: t.baseErr,
		CanarySlow: t.canarySlow, BaseSlow: t.baseSlow, CanarySlowReq: t.canarySlowReq, BaseSlowReq: t.baseSlowReq,
		CanaryMed: t.canaryMed, BaseMed: t.baseMed, CanaryMedReq: t.canaryMedReq, BaseMedReq: t.baseMedReq}
}

func importTotals(t StateTotals) totals {
	return totals{canaryReq: t.CanaryReq, canaryErr: t.CanaryErr, baseReq: t.BaseReq, baseErr: t.BaseErr,
		canarySlow: t.CanarySlow, baseSlow: t.BaseSlow, canarySlowReq: t.CanarySlowReq, baseSlowReq: t.BaseSlowReq,
		canaryMed: t.CanaryMed, baseMed: t.BaseMed, canaryMedReq: t.CanaryMedReq, baseMedReq: t.BaseMedReq}
}

func exportWarm(w warmUp) WarmState {
	return WarmState{Since: w.since, Served: w.served, Ready: w.ready, At: w.at}
}

func importWarm(w WarmState) warmUp {
	return warmUp{since: w.Since, served: w.Served, ready: w.Ready, at: w.At}
}
