package rollout

//go:generate go run ../internal/reasonsdoc ../docs/reasons.md

// Reason says why an event happened or why a rollout is in its phase: a
// short CamelCase name from the list below (Reasons). Programs branch on
// the Reason and read the numbers from Details; the message is only for
// people.
type Reason string

// The reasons of a rollout's life.
const (
	ReasonRolloutCreated   Reason = "RolloutCreated"
	ReasonRolloutUndo      Reason = "RolloutUndo"
	ReasonRolloutRetried   Reason = "RolloutRetried"
	ReasonDatabaseRollback Reason = "DatabaseRollback"
	ReasonRolloutStarted   Reason = "RolloutStarted"
	ReasonRolloutSucceeded Reason = "RolloutSucceeded"
	ReasonSuperseded       Reason = "Superseded"
	ReasonStepCompleted    Reason = "StepCompleted"
	ReasonPauseStep        Reason = "PauseStep"
	ReasonScaled           Reason = "Scaled"
	ReasonUnknownStrategy  Reason = "UnknownStrategy"
	ReasonRollbackStalled  Reason = "RollbackStalled"
	// ReasonTransitionRecovered records a phase whose transition event a
	// crash lost (see Event.To).
	ReasonTransitionRecovered Reason = "TransitionRecovered"
)

// The reasons of a user's commands.
const (
	ReasonPromoted Reason = "Promoted"
	ReasonPaused   Reason = "Paused"
	ReasonResumed  Reason = "Resumed"
	// ReasonAborted is the reason of a rollout a user aborted; its rollback
	// ends in phase Aborted rather than RolledBack.
	ReasonAborted Reason = "Aborted"
)

// The reasons of CheckHealth, for every strategy.
const (
	ReasonCrashLoop                Reason = "CrashLoop"
	ReasonProgressDeadlineExceeded Reason = "ProgressDeadlineExceeded"
)

// The reasons of the analysis: a rollback is named after the first trigger
// that fired (AnalysisReason).
const (
	ReasonUnhealthyInstances Reason = "UnhealthyInstances"
	ReasonErrorRate          Reason = "ErrorRate"
	ReasonLatencyRatio       Reason = "LatencyRatio"
	ReasonMemory             Reason = "Memory"
	ReasonCPU                Reason = "CPU"
	ReasonDependency         Reason = "Dependency"
	ReasonErrorTest          Reason = "ErrorTest"
	ReasonLatencyTest        Reason = "LatencyTest"
	ReasonAnalysisFailed     Reason = "AnalysisFailed"
	// ReasonBaselinePrimary: the canary is compared with the stable
	// revision's primary instances, not a like-for-like baseline, because
	// the backend or the metric source cannot keep one apart.
	ReasonBaselinePrimary Reason = "BaselinePrimary"
)

// The reasons of blue-green smoke tests.
const (
	ReasonSmokeTestsPassed  Reason = "SmokeTestsPassed"
	ReasonSmokeTestFailed   Reason = "SmokeTestFailed"
	ReasonSmokeTestsSkipped Reason = "SmokeTestsSkipped"
)

// The reasons of canary setFlag steps.
const (
	ReasonFlagSet      Reason = "FlagSet"
	ReasonFlagFailed   Reason = "FlagFailed"
	ReasonFlagSkipped  Reason = "FlagSkipped"
	ReasonFlagRestored Reason = "FlagRestored"
)

// The reasons of a rollout's database steps and of `gantry db`.
const (
	ReasonMigrationStarted        Reason = "MigrationStarted"
	ReasonDatabaseBackedUp        Reason = "DatabaseBackedUp"
	ReasonDatabaseMigrated        Reason = "DatabaseMigrated"
	ReasonMigrationFailed         Reason = "MigrationFailed"
	ReasonDatabaseRestored        Reason = "DatabaseRestored"
	ReasonDatabaseUndone          Reason = "DatabaseUndone"
	ReasonMigrationSkipped        Reason = "MigrationSkipped"
	ReasonScheduledBackupFailed   Reason = "ScheduledBackupFailed"
	ReasonBackupsPruned           Reason = "BackupsPruned"
	ReasonDatabaseRollbackStarted Reason = "DatabaseRollbackStarted"
	ReasonDatabaseRollbackFailed  Reason = "DatabaseRollbackFailed"
	ReasonMaintenanceStarted      Reason = "MaintenanceStarted"
	ReasonMaintenanceEnded        Reason = "MaintenanceEnded"
	ReasonDrillPassed             Reason = "DrillPassed"
	ReasonDrillTargetMissed       Reason = "DrillTargetMissed"
	ReasonDrillFailed             Reason = "DrillFailed"
)

// The reasons of a backend's instances.
const (
	ReasonInstanceStarted     Reason = "InstanceStarted"
	ReasonInstanceRestarted   Reason = "InstanceRestarted"
	ReasonInstanceExited      Reason = "InstanceExited"
	ReasonInstanceUnhealthy   Reason = "InstanceUnhealthy"
	ReasonInstanceKilled      Reason = "InstanceKilled"
	ReasonInstanceStartFailed Reason = "InstanceStartFailed"
	ReasonInstanceStopped     Reason = "InstanceStopped"
	ReasonInstanceAdopted     Reason = "InstanceAdopted"
	ReasonInstanceLost        Reason = "InstanceLost"
	// ReasonUnrecordedInstanceStopped: a process a stopped server started
	// but never recorded was found and stopped.
	ReasonUnrecordedInstanceStopped Reason = "UnrecordedInstanceStopped"
	// ReasonScrapeFailed: a scrape of an instance's own metrics
	// (spec.metrics.scrape) kept nothing: refused for a bound, or the
	// instance down or serving garbage (details.scrape).
	ReasonScrapeFailed Reason = "ScrapeFailed"
	// ReasonDriftCorrected: something other than gantry changed an object
	// gantry owns (a ReplicaSet's replicas), and gantry set it back.
	ReasonDriftCorrected Reason = "DriftCorrected"
	// ReasonReplicaRatio: a router that can only split traffic by ready
	// pods (Kubernetes' plain Service) was asked for other weights; the
	// message gives the split asked and the split given.
	ReasonReplicaRatio Reason = "ReplicaRatio"
	// ReasonRouterUnavailable: the router an environment's spec names
	// refused it when a server took the lead (its CRDs removed, a
	// permission taken away); the environment's traffic waits while the
	// other apps go on.
	ReasonRouterUnavailable Reason = "RouterUnavailable"
)

// The reasons of the data plane (the `gantry proxy` process serving an
// environment's listeners).
const (
	ReasonDataPlaneDown      Reason = "DataPlaneDown"
	ReasonDataPlaneStale     Reason = "DataPlaneStale"
	ReasonDataPlaneRestarted Reason = "DataPlaneRestarted"
	ReasonDataPlaneUp        Reason = "DataPlaneUp"
)

// ReasonInfo describes one reason for the documentation (docs/reasons.md).
type ReasonInfo struct {
	Reason Reason
	// Group is the heading the reason is listed under.
	Group string
	// Type is the event type it is recorded with; "" when either
	// (a rollback's end, say, keeps the type of its cause).
	Type EventType
	// Meaning says what happened, and which Details fields carry its facts.
	Meaning string
}

// Reasons lists every reason gantry records, with its meaning, in the
// order docs/reasons.md shows them. A test fails when a reason is used
// that is not listed, or when the generated document is stale.
var Reasons = []ReasonInfo{
	{ReasonRolloutCreated, "Rollouts", Normal, "`gantry deploy` created a rollout to a new revision."},
	{ReasonRolloutUndo, "Rollouts", Normal, "`gantry rollout undo` created a rollout back to an earlier revision."},
	{ReasonRolloutRetried, "Rollouts", Normal, "`gantry rollout retry` created a new rollout to the revision of a rolled back, aborted or failed one; `details.rollout` is the retried rollout's ID."},
	{ReasonDatabaseRollback, "Rollouts", Normal, "`gantry db rollback` created a rollout that restarts the revision a restored backup belongs to; it runs no migrations."},
	{ReasonRolloutStarted, "Rollouts", Normal, "Pending (or Migrating) -> Progressing: the strategy starts moving instances and traffic."},
	{ReasonRolloutSucceeded, "Rollouts", Normal, "Progressing -> Succeeded: the new revision serves all traffic."},
	{ReasonSuperseded, "Rollouts", Normal, "A newer rollout of the same app and environment replaced this one; `details.rollout` is the newer rollout's ID."},
	{ReasonStepCompleted, "Rollouts", Normal, "A canary or blue-green rollout moved to its next step; `details.step` is the new step."},
	{ReasonPauseStep, "Rollouts", Normal, "Progressing -> Paused at a pause step without a duration: `gantry rollout resume` or `promote` moves on."},
	{ReasonScaled, "Rollouts", Normal, "A revision was scaled; `details.scale` has the revision and its instance count."},
	{ReasonUnknownStrategy, "Rollouts", Warning, "The rollout names a strategy this gantry does not have; it is rolled back."},
	{ReasonRollbackStalled, "Rollouts", Warning, "RollingBack -> Failed: the stable revision did not come back within the progress deadline; a person is needed."},
	{ReasonTransitionRecovered, "Rollouts", Warning, "The server stopped between storing a rollout's phase and recording its event; the event is recorded at the next start (`to` is the phase)."},

	{ReasonPromoted, "Commands", Normal, "A user promoted the rollout to its next step, or fully; `details.why` is their explanation."},
	{ReasonPaused, "Commands", Normal, "Progressing -> Paused by a user; `details.why` is their explanation."},
	{ReasonResumed, "Commands", Normal, "Paused -> Progressing by a user; `details.why` is their explanation."},
	{ReasonAborted, "Commands", Warning, "A user aborted the rollout: it rolls back and ends Aborted; `details.why` is their explanation."},

	{ReasonCrashLoop, "Health", Warning, "An instance of the new revision restarted `crashLoopRestarts` times: roll back; `details.instance` has the instance, its restarts and last exit."},
	{ReasonProgressDeadlineExceeded, "Health", Warning, "The rollout made no progress within progressDeadlineSeconds: roll back; `details.progress` has the idle time, the deadline and the ready instances."},

	{ReasonUnhealthyInstances, "Analysis", Warning, "The share of unhealthy canary instances exceeded maxUnhealthyPercent: roll back. `details.analysis` lists every trigger with its observed value and threshold."},
	{ReasonErrorRate, "Analysis", Warning, "The canary's 5xx share exceeded maxErrorPercent: roll back (`details.analysis`)."},
	{ReasonLatencyRatio, "Analysis", Warning, "The canary's p95 latency exceeded maxLatencyRatio times the baseline's: roll back (`details.analysis`)."},
	{ReasonMemory, "Analysis", Warning, "A canary instance stayed over its memory limit: roll back (`details.analysis`, in bytes)."},
	{ReasonCPU, "Analysis", Warning, "A canary instance stayed over its CPU limit: roll back (`details.analysis`, in millicores)."},
	{ReasonDependency, "Analysis", Warning, "A canary instance's health check reports a failing dependency: roll back (`details.analysis`)."},
	{ReasonErrorTest, "Analysis", Warning, "The sequential test found the canary's error rate worse than the baseline's: roll back; `details.analysis` has the e-value and its threshold."},
	{ReasonLatencyTest, "Analysis", Warning, "The sequential test found the canary's slow requests worse than the baseline's: roll back; `details.analysis` has the e-value and its threshold."},
	{ReasonBaselinePrimary, "Analysis", Normal, "The spec asks for a like-for-like baseline (the default), but the backend runs no baseline group (`details.baseline.cause` BackendRunsNoBaseline, such as the Kubernetes backend) or the metric source cannot count one apart (MetricsCountNoBaseline, such as an external Prometheus): the canary is compared with the stable revision's primary instances. Recorded once per rollout; the status message says it too."},
	{ReasonAnalysisFailed, "Analysis", Warning, "The analysis asked for a rollback without naming a trigger."},

	{ReasonSmokeTestsPassed, "Smoke tests", Normal, "Every blue-green smoke test passed against the preview listener; `details.smokeTests` has each result."},
	{ReasonSmokeTestFailed, "Smoke tests", Warning, "A smoke test failed, or the tests could not run: roll back; `details.smokeTests` has the results, `details.error` what stopped them."},
	{ReasonSmokeTestsSkipped, "Smoke tests", Warning, "This gantry runs no smoke tests; the step passes without them."},

	{ReasonFlagSet, "Feature flags", Normal, "A setFlag step set a feature flag's rollout percentage in the rollout's environment."},
	{ReasonFlagFailed, "Feature flags", Warning, "A setFlag step could not set its flag (no such flag, or it has no rollout): roll back; `details.error` says why."},
	{ReasonFlagSkipped, "Feature flags", Warning, "This gantry sets no feature flags; the setFlag step passes without."},
	{ReasonFlagRestored, "Feature flags", Normal, "A rollback returned a flag its rollout had set to its value before the rollout."},

	{ReasonMigrationStarted, "Databases", Normal, "Pending -> Migrating: the database is backed up and migrated before the new revision starts."},
	{ReasonDatabaseBackedUp, "Databases", Normal, "A backup was taken (before a migration, or on the backup schedule); `details.backup` has its ID, size, duration and schema version."},
	{ReasonDatabaseMigrated, "Databases", Normal, "The migrations ran and the history validates; `details.migration` has the versions and scripts."},
	{ReasonMigrationFailed, "Databases", Warning, "A backup or migration failed: the database is reversed and the rollout ends RolledBack; `details.error` says why."},
	{ReasonDatabaseRestored, "Databases", Normal, "A backup was restored; `details.restore` has the backup ID and schema version."},
	{ReasonDatabaseUndone, "Databases", "", "Undo migrations ran (`details.migration`), or failed and a restore follows (Warning, `details.error`)."},
	{ReasonMigrationSkipped, "Databases", "", "The revision has a database but the rollout runs no migration: this gantry migrates none (Warning), or `gantry db rollback` restored it already."},
	{ReasonScheduledBackupFailed, "Databases", Warning, "A scheduled backup failed; `details.error` says why."},
	{ReasonBackupsPruned, "Databases", Normal, "Backups beyond the retention were removed."},
	{ReasonDatabaseRollbackStarted, "Databases", Normal, "`gantry db rollback` began: stop the app, restore or undo, restart the matching revision."},
	{ReasonDatabaseRollbackFailed, "Databases", Warning, "`gantry db rollback` could not restore or undo; `details.error` says why."},
	{ReasonMaintenanceStarted, "Databases", Normal, "The proxy answers 503 with Retry-After while a database rollback runs."},
	{ReasonMaintenanceEnded, "Databases", Normal, "The proxy serves again after a database rollback."},
	{ReasonDrillPassed, "Databases", Normal, "A scheduled restore drill restored the newest good backup within its RTO and RPO targets, with matching row counts."},
	{ReasonDrillTargetMissed, "Databases", Warning, "A scheduled restore drill restored the backup but missed its RTO or RPO target."},
	{ReasonDrillFailed, "Databases", Warning, "A scheduled restore drill could not run, or the restored row counts differ."},

	{ReasonInstanceStarted, "Instances", Normal, "A new instance's process started."},
	{ReasonInstanceRestarted, "Instances", Normal, "A process started again after an exit or a failed liveness probe."},
	{ReasonInstanceExited, "Instances", Warning, "The process exited on its own; a restart follows."},
	{ReasonInstanceUnhealthy, "Instances", Warning, "The liveness probe failed; the process is killed and restarted."},
	{ReasonInstanceKilled, "Instances", Warning, "SIGKILL after the grace period, or a kill for a limit (such as memory)."},
	{ReasonInstanceStartFailed, "Instances", Warning, "The process could not be started."},
	{ReasonInstanceStopped, "Instances", Normal, "Stopped by a scale-down or a shutdown."},
	{ReasonInstanceAdopted, "Instances", Normal, "A process left by an earlier gantry server is supervised again."},
	{ReasonInstanceLost, "Instances", Warning, "A recorded process ended while no gantry server was running."},
	{ReasonUnrecordedInstanceStopped, "Instances", Warning, "A process started by a server that stopped before recording it was found and stopped."},
	{ReasonScrapeFailed, "Instances", Warning, "A scrape of an instance's own metrics (`spec.metrics.scrape`) kept nothing: `details.scrape` gives the instance and either the bound its exposition broke (`refusal`: `TooManySeries`, `TooManyLabelValues` with the metric and label, or `BodyTooLarge`; the count and the limit) or the error (down, non-200, not the text format). Recorded when a scrape starts failing or fails differently, not at every scrape."},
	{ReasonDataPlaneDown, "Data plane", Warning, "The `gantry proxy` process serving the environment's listeners is gone; the server restarts it. New rollouts are refused until it is up."},
	{ReasonDataPlaneStale, "Data plane", Warning, "The `gantry proxy` process lives but does not answer its control socket. New rollouts are refused until it answers."},
	{ReasonDataPlaneRestarted, "Data plane", Warning, "The server started a new `gantry proxy` after one died, and programmed it again; the message says how long it was down and how many requests in flight were lost."},
	{ReasonDataPlaneUp, "Data plane", Normal, "The data plane answers again (a stale one recovered, or another process took its listeners over)."},
	{ReasonDriftCorrected, "Instances", Warning, "Something other than gantry changed an object gantry owns on Kubernetes (a revision's ReplicaSet scaled by hand); gantry reported it and set it back."},
	{ReasonReplicaRatio, "Instances", Normal, "Kubernetes `service` router: a split over two revisions can only follow the ready-pod ratio; the message gives the share asked and the share the pods give, and how to get exact weights (`gatewayAPI`, `ingressNginx`)."},
	{ReasonRouterUnavailable, "Instances", Warning, "The router the environment's spec names refused it when this server took the lead (on Kubernetes: its CRDs removed, a permission taken away); the message says why and how to fix it. The other apps go on; this environment's traffic cannot be set (its rollouts wait) until the router accepts it, tried again every few seconds."},
}

// Info returns r's entry in Reasons; ok is false for a reason not listed.
func (r Reason) Info() (ReasonInfo, bool) {
	for _, i := range Reasons {
		if i.Reason == r {
			return i, true
		}
	}
	return ReasonInfo{}, false
}
