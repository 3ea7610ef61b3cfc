package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Record is one entry of the audit log.
type Record struct {
	// Seq numbers the records 1, 2, 3… without gaps; the store assigns it.
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Actor is who acted: a token's name, "gantry" for automatic
	// decisions, "" when the request was not authenticated.
	Actor string `json:"actor"`
	// TokenID is the acting token's ID, "" when none.
	TokenID string `json:"tokenId,omitempty"`
	// Action is what was done, such as "deploy", "token.create" or, for
	// the engine's decisions, the event's reason ("RolledBack").
	Action string `json:"action"`
	App    string `json:"app,omitempty"`
	Env    string `json:"env,omitempty"`
	// Target names the object acted on beyond app and environment, such
	// as "rollout 12" or a token ID.
	Target string `json:"target,omitempty"`
	// RolloutID and EventID identify the rollout and the event a decision
	// record was written from; 0 for records of requests (and for decision
	// records written before gantry stored them).
	RolloutID int64 `json:"rolloutId,omitempty"`
	EventID   int64 `json:"eventId,omitempty"`
	// Method and Path are the HTTP request's, empty for decisions.
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// RemoteAddr is the request's peer address, empty for decisions.
	RemoteAddr string `json:"remoteAddr,omitempty"`
	// Status is the HTTP status answered; 0 for decisions.
	Status int `json:"status,omitempty"`
	// Outcome is "ok", "denied" (401/403), "rejected" (other 4xx) or
	// "error" (5xx) for requests, the event type for decisions.
	Outcome string `json:"outcome"`
	// Message says more: the error answered, or the decision's reason.
	Message string `json:"message,omitempty"`
	// PrevHash is the previous record's Hash, "" for the first record.
	PrevHash string `json:"prevHash"`
	// Hash is the hex SHA-256 of the record's canonical encoding.
	Hash string `json:"hash"`
}

// canonicalVersion starts every canonical encoding, so the format can change:
// v1 records carry no rollout or event ID, v2 records do.
const (
	canonicalVersion   = "gantry-audit-v1"
	canonicalVersionV2 = "gantry-audit-v2"
)

// Canonical returns the bytes Hash is computed from: a JSON array of
// every field but Hash, in a fixed order, with the time as UTC
// microseconds since the Unix epoch. A record without rollout and event
// IDs encodes as v1, so chains written before those fields existed still
// verify; any other record as v2, which adds them at the end (setting or
// clearing an ID therefore changes the hash).
func (r Record) Canonical() []byte {
	var micros int64
	if !r.Time.IsZero() {
		micros = r.Time.UnixMicro()
	}
	fields := []any{
		canonicalVersion, r.Seq, micros, r.Actor, r.TokenID, r.Action, r.App, r.Env, r.Target,
		r.Method, r.Path, r.RemoteAddr, r.Status, r.Outcome, r.Message, r.PrevHash,
	}
	if r.RolloutID != 0 || r.EventID != 0 {
		fields[0] = canonicalVersionV2
		fields = append(fields, r.RolloutID, r.EventID)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err) // strings and numbers always encode
	}
	return b
}

// ComputeHash returns the hex SHA-256 of r's canonical encoding.
func (r Record) ComputeHash() string {
	sum := sha256.Sum256(r.Canonical())
	return hex.EncodeToString(sum[:])
}

// Head is the newest record's place in the chain; the zero Head is an
// empty log.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Link returns r as the record after head: numbered head.Seq+1, its
// PrevHash head.Hash, its time truncated to the microsecond in UTC, and
// its Hash computed. Stores call it while holding their append lock.
func Link(head Head, r Record) Record {
	r.Seq = head.Seq + 1
	r.PrevHash = head.Hash
	if !r.Time.IsZero() {
		r.Time = r.Time.UTC().Truncate(time.Microsecond)
	}
	r.Hash = r.ComputeHash()
	return r
}
