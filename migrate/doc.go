// Package migrate applies SQL migrations to PostgreSQL the way Flyway does,
// so teams that come from Flyway keep their files and their history table.
//
// Files follow Flyway's naming: versioned V<version>__<description>.sql,
// undo U<version>__<description>.sql and repeatable R__<description>.sql.
// Versions are dotted or underscored numbers compared part by part
// (1.1 < 1.10 < 2); descriptions come from the name with underscores turned
// into spaces. Applied migrations are recorded in a table with the columns
// and meaning of flyway_schema_history (installed_rank, version,
// description, type, script, checksum, installed_by, installed_on,
// execution_time, success); checksums are Flyway's CRC-32 over the lines of
// a file.
//
// A Migrator holds one connection and a session advisory lock for the whole
// of each command, so two migrators never run at once against one history
// table. Each migration runs in its own transaction together with the
// insertion of its history row, unless it contains statements PostgreSQL
// refuses inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM,
// ...): those run statement by statement, and a failure leaves a row with
// success=false that Repair removes, as Flyway does.
//
// The pure parts (names, versions, checksums, statement splitting and the
// Info state computation) need no database.
package migrate
