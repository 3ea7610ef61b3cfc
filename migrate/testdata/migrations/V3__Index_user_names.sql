-- Builds without blocking writes; PostgreSQL refuses this inside a
-- transaction, so gantry runs this file outside one.
CREATE INDEX CONCURRENTLY users_name_idx ON users (name);
