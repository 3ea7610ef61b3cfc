-- Installation-wide values, each written once and then shared by every
-- gantry process of the installation: the secret seed of the active
-- users' hash (name active_users_seed), so that every server and data
-- plane process counts a user alike.
CREATE TABLE installation (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
