package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// EnvState is one app environment in a stream snapshot: its status as the
// API answers it, with request rates over the last tick.
type EnvState struct {
	api.Status
	// InProgress: the latest rollout has not reached a final phase.
	InProgress bool `json:"inProgress"`
	// Rates are each revision's rates since the previous snapshot; empty
	// in the first one.
	Rates []Rate `json:"rates"`
}

// Rate is one revision's traffic over the last tick.
type Rate struct {
	Revision int `json:"revision"`
	// RequestsPerSecond counts every answered request.
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// ErrorShare is the share of those answered 5xx, from 0 to 1.
	ErrorShare float64 `json:"errorShare"`
}

// frame is one tick's snapshot, each environment and event encoded once.
type frame struct {
	time   time.Time
	envs   []encoded // in-progress rollouts first, then by app and environment
	events []encoded // new since the previous frame, oldest first
	// after is the last event ID before events: a stream that has sent
	// less reads the gap from the store.
	after int64
}

// encoded is one environment's state or one event, as JSON.
type encoded struct {
	env  string
	key  string // environments: "app/env", what the stream's deltas name
	id   int64  // events: the store's ID
	json []byte
}

// sample is one tick of an environment's traffic, for the charts.
type sample struct {
	// T is the time in Unix milliseconds.
	T    int64       `json:"t"`
	Revs []revSample `json:"revs"`
}

type revSample struct {
	Revision   int     `json:"revision"`
	Weight     float64 `json:"weight"`
	RPS        float64 `json:"rps"`
	ErrorShare float64 `json:"errorShare"`
	P50        float64 `json:"p50Ms"`
	P95        float64 `json:"p95Ms"`
	P99        float64 `json:"p99Ms"`
}

// maxSamples is how many ticks of each environment the charts keep: 15
// minutes at the default tick.
const maxSamples = 900

// maxEventsPerFrame bounds the events one frame carries; the page reads
// older ones from the events API.
const maxEventsPerFrame = 500

type envKey struct{ app, env string }

// collector turns store and status reads into frames, keeping the
// previous counters (for rates), the samples and the last event seen.
type collector struct {
	mu        sync.Mutex
	started   bool
	lastEvent int64
	prev      map[envKey]counters
	series    map[envKey][]sample
}

// counters are an environment's request and error counters at one time.
type counters struct {
	at   time.Time
	revs map[int][2]uint64
}

func newCollector() collector {
	return collector{prev: map[envKey]counters{}, series: map[envKey][]sample{}}
}

func (c *collector) lastEventID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastEvent
}

func (c *collector) seriesOf(app, env string) []sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.series[envKey{app, env}])
}

func (c *collector) collect(ctx context.Context, st Store, a API, now time.Time) (*frame, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	apps, err := st.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	f := &frame{time: now}
	var states []EnvState
	seen := map[envKey]bool{}
	for _, app := range apps {
		for _, env := range app.Spec.EnvironmentNames() {
			status, err := a.Status(ctx, app.Name, env)
			if err != nil {
				return nil, fmt.Errorf("status of %s in %s: %w", app.Name, env, err)
			}
			k := envKey{app.Name, env}
			seen[k] = true
			states = append(states, c.observe(k, status, now))
		}
	}
	for k := range c.prev {
		if !seen[k] {
			delete(c.prev, k)
			delete(c.series, k)
		}
	}
	slices.SortFunc(states, func(x, y EnvState) int {
		if x.InProgress != y.InProgress {
			if x.InProgress {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(x.App, y.App), cmp.Compare(x.Env, y.Env))
	})
	for _, s := range states {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encode status of %s in %s: %w", s.App, s.Env, err)
		}
		f.envs = append(f.envs, encoded{env: s.Env, key: s.App + "/" + s.Env, json: b})
	}
	if err := c.readEvents(ctx, st, f); err != nil {
		return nil, err
	}
	return f, nil
}

// observe turns one environment's status into its state, rates and sample.
func (c *collector) observe(k envKey, st api.Status, now time.Time) EnvState {
	s := EnvState{Status: st, InProgress: st.Rollout != nil && !st.Rollout.Phase.Final(), Rates: []Rate{}}
	prev, had := c.prev[k]
	cur := counters{at: now, revs: map[int][2]uint64{}}
	smp := sample{T: now.UnixMilli()}
	for _, r := range st.Revisions {
		t := r.Traffic
		cur.revs[r.Number] = [2]uint64{t.Requests, t.Errors}
		rs := revSample{Revision: r.Number, Weight: t.Weight, P50: t.P50, P95: t.P95, P99: t.P99}
		if p, ok := prev.revs[r.Number]; had && ok && now.After(prev.at) && t.Requests >= p[0] && t.Errors >= p[1] {
			dr, de := t.Requests-p[0], t.Errors-p[1]
			rs.RPS = float64(dr) / now.Sub(prev.at).Seconds()
			if dr > 0 {
				rs.ErrorShare = float64(de) / float64(dr)
			}
			s.Rates = append(s.Rates, Rate{Revision: r.Number, RequestsPerSecond: rs.RPS, ErrorShare: rs.ErrorShare})
		}
		smp.Revs = append(smp.Revs, rs)
	}
	c.prev[k] = cur
	if had {
		ser := c.series[k]
		if len(ser) >= maxSamples {
			ser = slices.Delete(ser, 0, len(ser)-maxSamples+1)
		}
		c.series[k] = append(ser, smp)
	}
	return s
}

// readEvents adds the events stored since the previous frame. The first
// frame only learns where the events end.
func (c *collector) readEvents(ctx context.Context, st Store, f *frame) error {
	filter := rollout.EventFilter{AfterID: c.lastEvent, Limit: maxEventsPerFrame}
	if !c.started {
		filter = rollout.EventFilter{Limit: 1}
	}
	evs, err := st.ListEvents(ctx, filter)
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	f.after = c.lastEvent
	slices.SortFunc(evs, func(a, b rollout.Event) int { return cmp.Compare(a.ID, b.ID) })
	for _, ev := range evs {
		c.lastEvent = max(c.lastEvent, ev.ID)
		if !c.started {
			continue
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode event %d: %w", ev.ID, err)
		}
		f.events = append(f.events, encoded{env: ev.Env, id: ev.ID, json: b})
	}
	if !c.started {
		f.after = c.lastEvent
	}
	c.started = true
	return nil
}
