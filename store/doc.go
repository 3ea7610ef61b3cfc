// Package store is the home of gantry's rollout.Store implementations; it
// holds no code of its own.
//
//   - store/sqlite: the default, one SQLite file (pure Go, no cgo).
//   - store/postgres: PostgreSQL through pgx, for gantry servers that share
//     state or keep it off the machine.
//   - store/sqlstore: the logic both share, written once over a small DB
//     interface: statements, scanning, filters, facts as JSON, migrations.
//   - store/storetest: the conformance suite both pass; it also states the
//     rules every store keeps beyond rollout.Store's doc comments (time
//     precision, ordering, spec snapshots as JSON).
package store
