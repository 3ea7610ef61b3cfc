package featureflag

import (
	"fmt"
	"sort"
)

// Document is the serialized form of a Snapshot: what the API serves at
// /api/v1/environments/{env}/flags and featureflag/inprocess syncs.
type Document struct {
	Environment string `json:"environment"`
	// Seq is the newest version's Seq in the environment; it changes with
	// every change to the environment's flags.
	Seq int64 `json:"seq"`
	// Flags are the environment's flags, ordered by key; never nil.
	Flags []Flag `json:"flags"`
}

// Snapshot is an immutable, compiled view of one environment's flags;
// safe for concurrent use.
type Snapshot struct {
	doc   Document
	flags map[string]*Compiled
}

// NewSnapshot compiles a document's flags.
func NewSnapshot(doc Document) (*Snapshot, error) {
	s := &Snapshot{doc: doc, flags: make(map[string]*Compiled, len(doc.Flags))}
	if s.doc.Flags == nil {
		s.doc.Flags = []Flag{}
	}
	sort.Slice(s.doc.Flags, func(i, j int) bool { return s.doc.Flags[i].Key < s.doc.Flags[j].Key })
	for _, f := range s.doc.Flags {
		c, err := Compile(f)
		if err != nil {
			return nil, err
		}
		s.flags[f.Key] = c
	}
	return s, nil
}

// Document returns the snapshot's document. Its flags are shared: do not
// change them.
func (s *Snapshot) Document() Document { return s.doc }

// Env returns the snapshot's environment.
func (s *Snapshot) Env() string { return s.doc.Environment }

// Seq returns the snapshot's sequence number (see Document.Seq).
func (s *Snapshot) Seq() int64 { return s.doc.Seq }

// ETag returns a strong HTTP entity tag for the snapshot, such as
// "\"production-42\"".
func (s *Snapshot) ETag() string {
	return fmt.Sprintf("%q", fmt.Sprintf("%s-%d", s.doc.Environment, s.doc.Seq))
}

// Flag returns the compiled flag with key, nil when there is none.
func (s *Snapshot) Flag(key string) *Compiled { return s.flags[key] }

// Keys returns every flag's key, sorted.
func (s *Snapshot) Keys() []string {
	keys := make([]string, len(s.doc.Flags))
	for i, f := range s.doc.Flags {
		keys[i] = f.Key
	}
	return keys
}

// Evaluate evaluates flag key for ctx; an unknown key fails with
// FLAG_NOT_FOUND.
func (s *Snapshot) Evaluate(key string, ctx Context) (Result, error) {
	c, ok := s.flags[key]
	if !ok {
		return Result{Key: key, Reason: ReasonError}, &EvalError{Code: CodeFlagNotFound,
			Message: fmt.Sprintf("environment %s has no flag %q", s.doc.Environment, key)}
	}
	return c.Evaluate(ctx)
}
