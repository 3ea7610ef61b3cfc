-- gantry's state. Times are INTEGER microseconds since the Unix epoch
-- (UTC); NULL is the zero time. Spec snapshots are JSON text.

CREATE TABLE apps (
	name       TEXT PRIMARY KEY,
	spec       TEXT NOT NULL,
	updated_at INTEGER
) STRICT;

-- The last revision number handed out per app and environment, so numbers
-- are never reused even after the newest revision is deleted.
CREATE TABLE revision_counters (
	app         TEXT NOT NULL,
	env         TEXT NOT NULL,
	last_number INTEGER NOT NULL,
	PRIMARY KEY (app, env)
) STRICT, WITHOUT ROWID;

CREATE TABLE revisions (
	app        TEXT NOT NULL,
	env        TEXT NOT NULL,
	number     INTEGER NOT NULL,
	version    TEXT NOT NULL,
	spec       TEXT NOT NULL,
	created_at INTEGER,
	PRIMARY KEY (app, env, number)
) STRICT;

CREATE TABLE rollouts (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	app              TEXT NOT NULL,
	env              TEXT NOT NULL,
	strategy         TEXT NOT NULL,
	from_revision    INTEGER NOT NULL,
	to_revision      INTEGER NOT NULL,
	phase            TEXT NOT NULL,   -- the phase's name, such as 'Progressing'
	active           INTEGER NOT NULL, -- 1 while the phase is not final
	step             INTEGER NOT NULL,
	step_started_at  INTEGER,
	last_progress_at INTEGER,
	reason           TEXT NOT NULL,
	message          TEXT NOT NULL,
	actor            TEXT NOT NULL,
	created_at       INTEGER,
	updated_at       INTEGER,
	finished_at      INTEGER,
	generation       INTEGER NOT NULL
) STRICT;

CREATE INDEX rollouts_by_app_env ON rollouts (app, env, id);
CREATE INDEX rollouts_active ON rollouts (app, env, id) WHERE active = 1;

CREATE TABLE events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	time       INTEGER,
	app        TEXT NOT NULL,
	env        TEXT NOT NULL,
	rollout_id INTEGER, -- NULL: not about a rollout
	type       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	message    TEXT NOT NULL,
	actor      TEXT NOT NULL
) STRICT;

CREATE INDEX events_by_app_env ON events (app, env, id);
CREATE INDEX events_by_rollout ON events (rollout_id, id) WHERE rollout_id IS NOT NULL;
CREATE INDEX events_by_time ON events (time);
