// Package sqlstore is the logic gantry's SQL stores (store/sqlite and
// store/postgres) share, written once: how a rollout, an event, an app or a
// revision maps onto columns and back (times, phases, JSON details), how a
// filter becomes a WHERE clause, how rows are scanned and collected. The
// drivers keep only their SQL statements and what their databases do
// differently (transactions, locks, placeholders, time columns).
package sqlstore
