// Package dbbackup takes, lists, verifies, restores, prunes and drills
// PostgreSQL backups.
//
// A Store is a directory holding one pg_dump custom-format file per backup
// (<id>.dump) and a JSON manifest beside it (<id>.json) recording its size,
// SHA-256, how long it took, the schema version from the migration history
// table, the application revision the caller names, the time, and the row
// count of every table, counted in the very snapshot pg_dump dumped. A backup
// without its manifest is incomplete and never listed.
//
// Restore refuses a backup whose size or checksum differs from its manifest,
// then runs pg_restore --clean --if-exists --single-transaction, so a
// restore that fails leaves the database as it was. Drill restores the
// newest good backup into a scratch database, compares row counts, and
// measures the restore time (the RTO actually achievable) and the age of
// that backup (the RPO at this moment).
//
// pg_dump and pg_restore must be on PATH (or set Store.BinDir). Passwords are
// handed to them through PGPASSWORD, never on the command line, and never
// appear in errors.
package dbbackup
