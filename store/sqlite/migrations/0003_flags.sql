-- Feature flags: every version of every flag of every environment. A
-- flag's current definition is its newest version; definition NULL
-- records a deletion.

CREATE TABLE flag_versions (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	env        TEXT NOT NULL,
	key        TEXT NOT NULL,
	version    INTEGER NOT NULL,
	definition TEXT, -- JSON of featureflag.Flag; NULL: deleted
	actor      TEXT NOT NULL,
	reason     TEXT NOT NULL,
	time       INTEGER,
	UNIQUE (env, key, version)
) STRICT;

CREATE INDEX flag_versions_env ON flag_versions (env, seq);
