package rollout

import "github.com/gantry-dev/gantry/analysis"

// Details are the facts behind an event or a rollout's current phase, as
// data. Each field is set only for the reasons that have it (see Reasons);
// a nil *Details has none. The API returns them as they are, and every
// message is rendered from them.
type Details struct {
	// Analysis is the analysis verdict behind the event: every trigger with
	// its observed value and threshold in the trigger's own unit (an e-value
	// for ErrorTest and LatencyTest, a share for ErrorRate...).
	Analysis []analysis.Reason `json:"analysis,omitempty"`
	// Instance is the instance a crash loop was found on.
	Instance *InstanceFacts `json:"instance,omitempty"`
	// Progress is what a progress deadline found.
	Progress *ProgressFacts `json:"progress,omitempty"`
	// Backup is the database backup taken.
	Backup *DatabaseBackup `json:"backup,omitempty"`
	// Migration is what a migration or an undo did.
	Migration *DatabaseMigration `json:"migration,omitempty"`
	// Restore is what a restore did.
	Restore *DatabaseRestore `json:"restore,omitempty"`
	// SmokeTests are the smoke tests' results, in the order they ran.
	SmokeTests []SmokeResult `json:"smokeTests,omitempty"`
	// Scale is the revision a Scaled event scaled.
	Scale *ScaleFacts `json:"scale,omitempty"`
	// Step is the strategy step the rollout moved to (StepCompleted, Promoted).
	Step int `json:"step,omitempty"`
	// Rollout is the other rollout an event names: the newer one for
	// Superseded, the retried one for RolloutRetried.
	Rollout int64 `json:"rollout,omitempty"`
	// Revision and Version are the revision a rollout moves to, for
	// RolloutCreated, RolloutUndo and RolloutStarted; 0 and "" otherwise.
	Revision int    `json:"revision,omitempty"`
	Version  string `json:"version,omitempty"`
	// Gates are a deploy's gate results (GatesPassed, GatesRefused,
	// GatesOverridden).
	Gates []GateFact `json:"gates,omitempty"`
	// Stage is a pipeline stage's facts (StageStarted, StagePassed,
	// StageFailed, PipelineEnded).
	Stage *StageFacts `json:"stage,omitempty"`
	// Why is a user's explanation of a command (--reason).
	Why string `json:"why,omitempty"`
	// Baseline is why a canary's analysis compares it with the stable
	// revision's primary instances instead of a like-for-like baseline
	// (BaselinePrimary).
	Baseline *BaselineFallback `json:"baseline,omitempty"`
	// Error is the error behind a Warning, as its text.
	Error string `json:"error,omitempty"`
	// DataPlane is a crash of the data plane process (DataPlaneRestarted).
	DataPlane *DataPlaneCrash `json:"dataPlane,omitempty"`
	// Drift is what a router set back after someone else changed an
	// object it wrote (DriftCorrected), one fact per object field. When
	// writing some of it back failed, Error says why and the router tries
	// again at its next resync.
	Drift []DriftFact `json:"drift,omitempty"`
	// Scrape is what a scrape of an instance's own metrics found (ScrapeFailed).
	Scrape *ScrapeFacts `json:"scrape,omitempty"`
}

// DriftFact is one change someone else made to an object a router wrote,
// and what the router did about it.
type DriftFact struct {
	// Kind, Namespace and Name name the object ("HTTPRoute", "prod", "web").
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Field is the field path that differed ("spec.selector"); "" when the
	// object was deleted and Recreated.
	Field string `json:"field,omitempty"`
	// Was is the value found, Now the value set back, both as the router
	// renders them ("app=web,revision=1"; "stable 80, canary 20").
	Was string `json:"was,omitempty"`
	Now string `json:"now,omitempty"`
	// Recreated: the object was deleted and the router created it again.
	Recreated bool `json:"recreated,omitempty"`
}

// String renders the fact for people ("Service prod/web: spec.selector
// was a; set back to b").
func (f DriftFact) String() string {
	obj := f.Kind + " " + f.Namespace + "/" + f.Name
	if f.Recreated {
		return obj + " was deleted; created again"
	}
	return obj + ": " + f.Field + " was " + f.Was + "; set back to " + f.Now
}

// DataPlaneCrash is what a crash of the data plane process (`gantry
// proxy`) cost, as the server that replaced it saw it. Requests that
// failed on the client side are InFlight, plus every connection made to
// a listener not held while DowntimeMs lasted (none when HeldListeners
// covers them all: those waited in the backlog, Queued of them at the
// restart).
type DataPlaneCrash struct {
	// PID and Boot name the process that died; NewPID and NewBoot its
	// replacement.
	PID     int    `json:"pid"`
	Boot    string `json:"boot"`
	NewPID  int    `json:"newPid"`
	NewBoot string `json:"newBoot"`
	// Standby: the warm standby (`gantry proxy --standby`) took over;
	// false: the server started the replacement.
	Standby bool `json:"standby"`
	// DowntimeMs is how long no process accepted connections, in
	// milliseconds. When a standby took over: from the end of the dead
	// process's listener stream (its sockets close as it exits) to the
	// standby serving. Otherwise from the dead process's last answer to a
	// health check (an upper bound of its death) to its replacement serving.
	DowntimeMs int64 `json:"downtimeMs"`
	// RestartMs is the part of DowntimeMs after the crash was seen:
	// starting the replacement (or the standby taking over), with the
	// tables applied.
	RestartMs int64 `json:"restartMs"`
	// InFlight are the requests in flight at its last health check: their
	// clients got a reset or an empty reply.
	InFlight int64 `json:"inFlight"`
	// HeldListeners is how many listening sockets the server kept open
	// across the crash (connections to them waited, none was refused);
	// Queued is how many connections were waiting in them when the
	// replacement started.
	HeldListeners int `json:"heldListeners"`
	Queued        int `json:"queued"`
}

// InstanceFacts are the facts of one instance.
type InstanceFacts struct {
	ID       string `json:"id"`
	Revision int    `json:"revision"`
	Version  string `json:"version"`
	Restarts int    `json:"restarts"`
	// LastExit is how the process last ended ("exit status 1"); "" when it has not.
	LastExit string `json:"lastExit,omitempty"`
}

// ProgressFacts are what a progress deadline found.
type ProgressFacts struct {
	// IdleSeconds is how long the rollout made no progress; DeadlineSeconds
	// is spec.progressDeadlineSeconds.
	IdleSeconds     int `json:"idleSeconds"`
	DeadlineSeconds int `json:"deadlineSeconds"`
	// Ready and Total count the target revision's instances.
	Ready int `json:"ready"`
	Total int `json:"total"`
}

// ScaleFacts say which revision was scaled to how many instances.
type ScaleFacts struct {
	Revision int    `json:"revision"`
	Version  string `json:"version"`
	// Group is the group scaled: GroupPrimary ("") or GroupBaseline.
	Group     string `json:"group,omitempty"`
	Instances int    `json:"instances"`
}

// analysisReasons maps each rollback trigger of the analysis to the
// reason a rollback it fires is recorded with.
var analysisReasons = map[analysis.Trigger]Reason{
	analysis.UnhealthyInstances: ReasonUnhealthyInstances,
	analysis.ErrorRate:          ReasonErrorRate,
	analysis.LatencyRatio:       ReasonLatencyRatio,
	analysis.Memory:             ReasonMemory,
	analysis.CPU:                ReasonCPU,
	analysis.Dependency:         ReasonDependency,
	analysis.ErrorTest:          ReasonErrorTest,
	analysis.LatencyTest:        ReasonLatencyTest,
}

// AnalysisReason is the reason a rollback verdict is recorded with: its
// first trigger's, or AnalysisFailed when it names none.
func AnalysisReason(v analysis.Verdict) Reason {
	if len(v.Reasons) == 0 {
		return ReasonAnalysisFailed
	}
	if r, ok := analysisReasons[v.Reasons[0].Trigger]; ok {
		return r
	}
	return ReasonAnalysisFailed
}
