package audit

import (
	"context"
	"time"
)

// Store keeps the audit log. Implementations are safe for concurrent use
// and serialize appends, also across processes sharing one database, so
// the chain never forks.
type Store interface {
	// AppendAudit links r after the newest record with Link, under a lock
	// that serializes appends, stores it, moves the head to it, and
	// returns it as stored. r's Seq, PrevHash and Hash are ignored.
	AppendAudit(ctx context.Context, r Record) (Record, error)
	// ListAudit returns the records f selects in Seq order.
	ListAudit(ctx context.Context, f Filter) ([]Record, error)
	// AuditHead returns the head as the last append left it (the zero
	// Head for an empty log). It is kept apart from the records, so
	// deleting the newest records shows.
	AuditHead(ctx context.Context) (Head, error)
}

// Filter selects records; the zero Filter selects all.
type Filter struct {
	// Actor, Env and Action match exactly when set.
	Actor  string
	Env    string
	Action string
	// Since keeps records at or after it; zero: from the start.
	Since time.Time
	// AfterSeq keeps records with Seq > AfterSeq.
	AfterSeq int64
	// Limit keeps the first Limit records (after AfterSeq); 0: all.
	// Combined with Newest, the last Limit.
	Limit int
	// Newest selects the newest Limit records instead of the oldest;
	// they are still returned in Seq order.
	Newest bool
}
