// Package rollout owns gantry's core: revisions, rollouts and their typed
// phases, events, and the engine that moves a rollout from one phase to the
// next. It declares what it needs from the outside as small interfaces
// (Store, Backend, Router) and imports no backend, driver or web framework.
//
// The engine is the only code that mutates a rollout. Each tick it reads the
// stored rollout and the backend's instances, asks the strategy what to do
// next (a pure function in package strategy), writes the resulting
// transition to the store, and only then acts on it (scaling revisions,
// setting traffic weights). After a crash the engine re-reads the store and
// carries on from the last written state.
package rollout
