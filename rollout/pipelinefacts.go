package rollout

// The reasons of environment gates and pipeline runs (package pipeline).
const (
	ReasonGatesPassed     Reason = "GatesPassed"
	ReasonGatesRefused    Reason = "GatesRefused"
	ReasonGatesOverridden Reason = "GatesOverridden"
	ReasonApproved        Reason = "Approved"
	ReasonHookRan         Reason = "HookRan"
	ReasonHookFailed      Reason = "HookFailed"
	ReasonStageStarted    Reason = "StageStarted"
	ReasonStagePassed     Reason = "StagePassed"
	ReasonStageFailed     Reason = "StageFailed"
	ReasonPipelineEnded   Reason = "PipelineEnded"
)

// pipelineReasons are the entries of Reasons for the constants above.
var pipelineReasons = []ReasonInfo{
	{ReasonGatesPassed, "Gates and pipelines", Normal, "Every gate of a deploy passed (`details.gates`); the rollout starts."},
	{ReasonGatesRefused, "Gates and pipelines", Warning, "A gate refused a deploy (`details.gates` has each gate's result and reason); nothing was deployed."},
	{ReasonGatesOverridden, "Gates and pipelines", Warning, "A deploy went ahead past a failing window, freeze or promotion gate with an emergency override; `details.why` is its reason."},
	{ReasonApproved, "Gates and pipelines", Normal, "`gantry approve` recorded an approval of a version in an environment; `details.version` names it."},
	{ReasonHookRan, "Gates and pipelines", Normal, "A post-rollout or on-rollback hook ran; `details.error` is empty."},
	{ReasonHookFailed, "Gates and pipelines", Warning, "A post-rollout or on-rollback hook failed or timed out; `details.error` says how."},
	{ReasonStageStarted, "Gates and pipelines", Normal, "A pipeline run started a stage (`details.stage`)."},
	{ReasonStagePassed, "Gates and pipelines", Normal, "A pipeline run's stage passed; `details.stage` has its timing, actor and reason."},
	{ReasonStageFailed, "Gates and pipelines", Warning, "A pipeline run's stage failed, which ends the run; `details.stage` says why."},
	{ReasonPipelineEnded, "Gates and pipelines", Normal, "A pipeline run ended (`details.stage.status` is the run's state)."},
}

// GateFact is one gate's result in an event (package gate's Result).
type GateFact struct {
	Gate   string `json:"gate"`
	Status string `json:"status"`
	// Advisory: a failure does not block.
	Advisory bool   `json:"advisory,omitempty"`
	Reason   string `json:"reason"`
}

// StageFacts are one pipeline stage's facts in an event.
type StageFacts struct {
	// Run is the pipeline run's ID.
	Run     int64  `json:"run"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Version string `json:"version"`
	// DurationMs is how long the stage ran, in milliseconds; 0 at its start.
	DurationMs int64  `json:"durationMs,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

func init() { Reasons = append(Reasons, pipelineReasons...) }
