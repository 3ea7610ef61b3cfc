-- Feature flags: every version of every flag of every environment. A
-- flag's current definition is its newest version; definition NULL
-- records a deletion.

CREATE TABLE flag_versions (
	seq        bigserial PRIMARY KEY,
	env        text NOT NULL,
	key        text NOT NULL,
	version    bigint NOT NULL,
	definition jsonb, -- featureflag.Flag; NULL: deleted
	actor      text NOT NULL,
	reason     text NOT NULL,
	time       timestamptz,
	UNIQUE (env, key, version)
);

CREATE INDEX flag_versions_env ON flag_versions (env, seq);
