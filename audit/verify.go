package audit

import (
	"context"
	"fmt"
)

// ProblemKind says what is wrong with a record of the chain.
type ProblemKind int

// The problems Verify finds.
const (
	// ContentChanged: the record's fields do not hash to its Hash.
	ContentChanged ProblemKind = iota + 1
	// RecordMissing: records were deleted; Seq is the first one missing.
	RecordMissing
	// ChainBroken: the record's PrevHash is not the previous record's Hash.
	ChainBroken
)

var problemNames = map[ProblemKind]string{
	ContentChanged: "content changed",
	RecordMissing:  "record missing",
	ChainBroken:    "chain broken",
}

// String returns the kind's words, such as "content changed".
func (k ProblemKind) String() string {
	if s, ok := problemNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// MarshalText writes the kind's words.
func (k ProblemKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads the kind's words as MarshalText writes them.
func (k *ProblemKind) UnmarshalText(b []byte) error {
	for kind, name := range problemNames {
		if name == string(b) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("unknown audit problem kind %q", b)
}

// Problem is one place where the chain does not hold.
type Problem struct {
	// Seq is the record at fault: the changed record, the first missing
	// one, or the one whose link is broken.
	Seq     int64       `json:"seq"`
	Kind    ProblemKind `json:"kind"`
	Message string      `json:"message"`
}

func (p Problem) String() string { return fmt.Sprintf("record %d: %s: %s", p.Seq, p.Kind, p.Message) }

// Report is the outcome of Verify.
type Report struct {
	// Records is how many records were read.
	Records int64 `json:"records"`
	// Head is the stored head.
	Head Head `json:"head"`
	// Problems lists what is wrong, in Seq order; empty: the chain holds.
	Problems []Problem `json:"problems"`
}

// OK reports whether the chain holds.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// pageSize is how many records Verify reads at once.
const pageSize = 1000

// Verify reads the whole log and checks every record's hash, its link to
// the one before, that Seq runs 1, 2, 3… without gaps, and that the last
// record is the stored head.
func Verify(ctx context.Context, s Store) (Report, error) {
	head, err := s.AuditHead(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	v := verifier{rep: Report{Head: head}}
	var after int64
	for {
		page, err := s.ListAudit(ctx, Filter{AfterSeq: after, Limit: pageSize})
		if err != nil {
			return Report{}, fmt.Errorf("verify audit log: %w", err)
		}
		for _, r := range page {
			v.check(r)
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Seq
	}
	v.finish(head)
	return v.rep, nil
}

// verifier walks the records in Seq order.
type verifier struct {
	rep  Report
	prev Record // zero before the first record
}

func (v *verifier) add(seq int64, kind ProblemKind, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, Problem{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) check(r Record) {
	v.rep.Records++
	want := v.prev.Seq + 1
	gap := r.Seq != want
	if gap {
		if r.Seq > want {
			v.add(want, RecordMissing, "records %d to %d are gone (the next record found is %d)", want, r.Seq-1, r.Seq)
		} else {
			v.add(r.Seq, ChainBroken, "sequence number %d appears after %d", r.Seq, v.prev.Seq)
		}
	}
	if got := r.ComputeHash(); got != r.Hash {
		v.add(r.Seq, ContentChanged, "its fields hash to %.12s…, but its stored hash is %.12s…: the record was edited after it was written", got, r.Hash)
	} else if !gap && r.PrevHash != v.prev.Hash {
		// With a gap, the missing records explain the broken link.
		v.add(r.Seq, ChainBroken, "it links to a previous hash %.12s…, but record %d's hash is %.12s…: record %d was replaced or rewritten",
			r.PrevHash, v.prev.Seq, v.prev.Hash, v.prev.Seq)
	}
	v.prev = r
}

func (v *verifier) finish(head Head) {
	last := v.prev
	switch {
	case head.Seq > last.Seq:
		v.add(last.Seq+1, RecordMissing, "the log's head is record %d, but the last record found is %d: the newest records were deleted", head.Seq, last.Seq)
	case head.Seq < last.Seq:
		v.add(head.Seq+1, ChainBroken, "the log's head is record %d, but records up to %d exist: records were added without moving the head", head.Seq, last.Seq)
	case head.Seq != 0 && head.Hash != last.Hash:
		v.add(head.Seq, ChainBroken, "the log's head has hash %.12s…, but record %d hashes to %.12s…: the newest record was replaced", head.Hash, last.Seq, last.Hash)
	}
}
