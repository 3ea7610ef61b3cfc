-- API tokens, stored only as the SHA-256 of their secret, and the
-- hash-chained audit log.

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	grants     TEXT NOT NULL, -- JSON: [{"env": "staging", "role": "deployer"}]
	hash       TEXT NOT NULL UNIQUE,
	created_at INTEGER,
	created_by TEXT NOT NULL,
	expires_at INTEGER, -- NULL: never
	revoked_at INTEGER  -- NULL: not revoked
) STRICT;

CREATE TABLE audit_log (
	seq         INTEGER PRIMARY KEY,
	time        INTEGER,
	actor       TEXT NOT NULL,
	token_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	app         TEXT NOT NULL,
	env         TEXT NOT NULL,
	target      TEXT NOT NULL,
	method      TEXT NOT NULL,
	path        TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	status      INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	message     TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_by_time ON audit_log (time);

-- The newest record's place in the chain, moved by every append in the
-- same transaction, so deleting the newest records shows.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
