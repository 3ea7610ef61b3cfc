-- Environments and the promotion pipeline: approvals of a version in an
-- environment, the gate checklist of every deploy (kept for release
-- records), and pipeline runs (a run's stages as JSON), so a restarted
-- server resumes a run where it was.
CREATE TABLE approvals (
	id BIGSERIAL PRIMARY KEY,
	app TEXT NOT NULL,
	env TEXT NOT NULL,
	version TEXT NOT NULL,
	approver TEXT NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX approvals_version ON approvals (app, env, version);

CREATE TABLE gate_checks (
	id BIGSERIAL PRIMARY KEY,
	app TEXT NOT NULL,
	env TEXT NOT NULL,
	version TEXT NOT NULL,
	rollout_id BIGINT NOT NULL DEFAULT 0,
	actor TEXT NOT NULL,
	override_reason TEXT NOT NULL DEFAULT '',
	checklist TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX gate_checks_app ON gate_checks (app, env, version);

CREATE TABLE pipeline_runs (
	id BIGSERIAL PRIMARY KEY,
	app TEXT NOT NULL,
	version TEXT NOT NULL,
	active BOOLEAN NOT NULL,
	run TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX pipeline_runs_app ON pipeline_runs (app, id);
