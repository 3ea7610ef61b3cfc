// Package loadgen drives steady HTTP traffic at a target and counts what
// came back per version, for the demo and the integration tests. A request
// fails when it gets no response or a status of 500 or above; the version
// comes from the "version" field of a JSON body (the sample workload's).
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Options configure a load run.
type Options struct {
	// URL is requested with GET.
	URL string
	// Rate is requests per second across all workers; 0: 200.
	Rate int
	// Workers is how many requests may be in flight; 0: 8.
	Workers int
	// Timeout bounds each request; 0: 5s.
	Timeout time.Duration
}

// Counts is what one version served.
type Counts struct {
	Version string `json:"version"`
	OK      uint64 `json:"ok"`
	Failed  uint64 `json:"failed"`
}

// Load is a running load; read it at any time, stop it with its context.
type Load struct {
	opts   Options
	client *http.Client
	total  atomic.Uint64
	failed atomic.Uint64

	mu        sync.Mutex
	byVersion map[string]*Counts
	latency   *hdrhistogram.Histogram // successful requests, in µs
	lastErr   string
	done      chan struct{}
}

// Start begins sending requests until ctx ends.
func Start(ctx context.Context, opts Options) *Load {
	if opts.Rate <= 0 {
		opts.Rate = 200
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	l := &Load{
		opts: opts,
		client: &http.Client{Timeout: opts.Timeout, Transport: &http.Transport{
			MaxIdleConnsPerHost: opts.Workers, DisableCompression: true,
		}},
		byVersion: map[string]*Counts{},
		latency:   hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
		done:      make(chan struct{}),
	}
	// Workers take numbered tickets; ticket n is due at start + n/rate, so
	// the rate holds on average even when a tick comes late (no drift).
	var ticket atomic.Int64
	interval := time.Second / time.Duration(opts.Rate)
	begin := time.Now()
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				due := begin.Add(time.Duration(ticket.Add(1)-1) * interval)
				if wait := time.Until(due); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
					}
				}
				if ctx.Err() != nil {
					return
				}
				l.one(ctx)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(l.done)
	}()
	return l
}

// Wait blocks until the load has stopped and every request has finished.
func (l *Load) Wait() { <-l.done }

func (l *Load) one(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	req, _ := http.NewRequest(http.MethodGet, l.opts.URL, nil)
	start := time.Now()
	resp, err := l.client.Do(req)
	version := "?"
	ok := false
	var why string
	if err != nil {
		why = err.Error()
	} else {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		var v struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(body, &v) == nil && v.Version != "" {
			version = v.Version
		}
		switch {
		case rerr != nil:
			why = "read body: " + rerr.Error()
		case resp.StatusCode >= 500:
			why = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		default:
			ok = true
		}
	}
	l.total.Add(1)
	if !ok {
		l.failed.Add(1)
	}
	l.mu.Lock()
	c, found := l.byVersion[version]
	if !found {
		c = &Counts{Version: version}
		l.byVersion[version] = c
	}
	if ok {
		c.OK++
		l.latency.RecordValue(max(time.Since(start).Microseconds(), 1))
	} else {
		c.Failed++
		l.lastErr = why
	}
	l.mu.Unlock()
}

// Total and Failed count every request so far.
func (l *Load) Total() uint64  { return l.total.Load() }
func (l *Load) Failed() uint64 { return l.failed.Load() }

// Quantile returns the latency of successful requests at quantile q (0
// to 1, such as 0.95), from first byte sent to whole body read, to within
// 0.1%; 0 before any request succeeded.
func (l *Load) Quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.latency.ValueAtQuantile(q*100)) * time.Microsecond
}

// LastError describes the most recent failed request, "" if none.
func (l *Load) LastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// ByVersion returns the counts per version, sorted by version.
func (l *Load) ByVersion() []Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Counts, 0, len(l.byVersion))
	for _, c := range l.byVersion {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}
