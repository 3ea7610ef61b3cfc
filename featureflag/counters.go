package featureflag

import (
	"sync"
	"sync/atomic"
)

// Counters counts evaluations by environment, flag, variant and reason;
// safe for concurrent use. The zero Counters is ready.
type Counters struct {
	m sync.Map // CountKey → *atomic.Uint64
}

// CountKey is what one counter counts. Failed evaluations have Variant
// "", Reason ERROR and their error code in Error.
type CountKey struct {
	Env, Flag, Variant string
	Reason             Reason
	Error              ErrorCode
}

// Add counts one evaluation.
func (c *Counters) Add(k CountKey) {
	if v, ok := c.m.Load(k); ok {
		v.(*atomic.Uint64).Add(1)
		return
	}
	v, _ := c.m.LoadOrStore(k, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(1)
}

// Each calls fn with every counter and its count, in no order.
func (c *Counters) Each(fn func(k CountKey, n uint64)) {
	c.m.Range(func(k, v any) bool {
		fn(k.(CountKey), v.(*atomic.Uint64).Load())
		return true
	})
}
