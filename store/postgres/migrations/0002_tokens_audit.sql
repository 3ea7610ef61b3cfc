-- API tokens, stored only as the SHA-256 of their secret, and the
-- hash-chained audit log.

CREATE TABLE tokens (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	grants     jsonb NOT NULL, -- [{"env": "staging", "role": "deployer"}]
	hash       text NOT NULL UNIQUE,
	created_at timestamptz,
	created_by text NOT NULL,
	expires_at timestamptz, -- NULL: never
	revoked_at timestamptz  -- NULL: not revoked
);

CREATE TABLE audit_log (
	seq         bigint PRIMARY KEY,
	time        timestamptz,
	actor       text NOT NULL,
	token_id    text NOT NULL,
	action      text NOT NULL,
	app         text NOT NULL,
	env         text NOT NULL,
	target      text NOT NULL,
	method      text NOT NULL,
	path        text NOT NULL,
	remote_addr text NOT NULL,
	status      integer NOT NULL,
	outcome     text NOT NULL,
	message     text NOT NULL,
	prev_hash   text NOT NULL,
	hash        text NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (time);

-- The newest record's place in the chain, moved by every append in the
-- same transaction, so deleting the newest records shows.
CREATE TABLE audit_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
