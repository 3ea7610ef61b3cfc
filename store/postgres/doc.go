// Package postgres is a rollout.Store in a PostgreSQL database, through
// pgx's connection pool.
//
// Open applies gantry's schema migrations (the numbered files in
// migrations/, in order, in one transaction, under an advisory lock so two
// gantry servers starting together do not race) and refuses a database
// whose schema is newer than this gantry knows.
//
// Event IDs come from an identity column; appends are serialized with a
// transaction-scoped advisory lock so that events become visible in ID
// order, and a follower reading with EventFilter.AfterID never skips one
// that commits late.
package postgres
