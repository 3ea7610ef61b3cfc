-- gantry's state. Times are timestamptz (microseconds); NULL is the zero
-- time. Spec snapshots are JSON.

CREATE TABLE apps (
	name       text PRIMARY KEY,
	spec       jsonb NOT NULL,
	updated_at timestamptz
);

-- The last revision number handed out per app and environment, so numbers
-- are never reused even after the newest revision is deleted.
CREATE TABLE revision_counters (
	app         text NOT NULL,
	env         text NOT NULL,
	last_number integer NOT NULL,
	PRIMARY KEY (app, env)
);

CREATE TABLE revisions (
	app        text NOT NULL,
	env        text NOT NULL,
	number     integer NOT NULL,
	version    text NOT NULL,
	spec       jsonb NOT NULL,
	created_at timestamptz,
	PRIMARY KEY (app, env, number)
);

CREATE TABLE rollouts (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	app              text NOT NULL,
	env              text NOT NULL,
	strategy         text NOT NULL,
	from_revision    integer NOT NULL,
	to_revision      integer NOT NULL,
	phase            text NOT NULL,    -- the phase's name, such as 'Progressing'
	active           boolean NOT NULL, -- true while the phase is not final
	step             integer NOT NULL,
	step_started_at  timestamptz,
	last_progress_at timestamptz,
	reason           text NOT NULL,
	message          text NOT NULL,
	actor            text NOT NULL,
	created_at       timestamptz,
	updated_at       timestamptz,
	finished_at      timestamptz,
	generation       bigint NOT NULL
);

CREATE INDEX rollouts_by_app_env ON rollouts (app, env, id);
CREATE INDEX rollouts_active ON rollouts (app, env, id) WHERE active;

CREATE TABLE events (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time       timestamptz,
	app        text NOT NULL,
	env        text NOT NULL,
	rollout_id bigint, -- NULL: not about a rollout
	type       text NOT NULL,
	reason     text NOT NULL,
	message    text NOT NULL,
	actor      text NOT NULL
);

CREATE INDEX events_by_app_env ON events (app, env, id);
CREATE INDEX events_by_rollout ON events (rollout_id, id) WHERE rollout_id IS NOT NULL;
CREATE INDEX events_by_time ON events (time);
