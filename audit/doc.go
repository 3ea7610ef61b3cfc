// Package audit is gantry's audit log: who did what, when, from where and
// with what result, for every mutating API call and every automatic
// decision of the rollout engine.
//
// The log is append-only and hash-chained. Each Record stores the
// SHA-256 of its own canonical encoding, which includes the previous
// record's hash, so editing a record changes its hash (content changed),
// rewriting a hash to match breaks the next record's link (chain broken),
// and deleting records leaves a gap in the sequence numbers or a head
// that runs past the last record (record missing). Verify finds each.
//
// The chain proves the log was not edited by someone who cannot also
// rewrite every later record and the head: it detects accidental damage
// and tampering through the database, not an attacker who recomputes the
// whole chain. Copy Head somewhere else (a ticket, a log shipper) to pin
// the chain up to that point.
//
// Automatic decisions come from the rollout engine's events: Events wraps
// a rollout.Store and audits every Warning event and every phase
// transition (the engine writes those as "From -> To: message"), with
// the event's actor, normally "gantry". Routine Normal events (Scaled,
// StepCompleted) stay in the event log only.
package audit
