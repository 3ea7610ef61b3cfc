-- The analysis evidence of each rollout (analysis.State as JSON), so that
-- a restart or a change of leader continues a rollout's tests where they
-- were. Written once a second while a rollout is judged.
CREATE TABLE analysis_states (
	rollout_id BIGINT PRIMARY KEY REFERENCES rollouts (id) ON DELETE CASCADE,
	state TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
