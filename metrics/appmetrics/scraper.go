package appmetrics

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Options configure a Scraper.
type Options struct {
	// Client does the scrapes; nil: a client of its own. Each scrape's
	// timeout comes from its target's Config.
	Client *http.Client
	// Reserved says which metric names gantry keeps for itself: an
	// instance's metric of such a name is re-exposed with ExportedPrefix.
	// Nil: none.
	Reserved func(name string) bool
	// OnFailure is called, from the target's goroutine, when a target's
	// scrape starts failing or fails differently (another error, or a
	// refusal for another reason or label), not at every failed scrape.
	// Nil: nothing is called.
	OnFailure func(t Target, err error)
}

// Status is the outcome of a target's last scrape.
type Status struct {
	// At is when the last scrape started, zero before the first; Duration
	// how long it took.
	At       time.Time
	Duration time.Duration
	// Series is how many series the last exposition had (also when it was
	// refused); 0 when it could not be read.
	Series int
	// Scrapes counts the target's scrapes so far, this one included.
	Scrapes int
	// Err is why the last scrape kept nothing: a *Refusal for a bounded
	// exposition, another error for an instance that is down, answers
	// non-200 or garbage; nil when it was kept.
	Err error
}

// Scraper scrapes its targets, each at its own interval in a goroutine of
// its own, and keeps the last kept exposition of each, relabelled, for
// Collect. A target that is down or serves garbage costs only its own
// goroutine. It is safe for concurrent use.
type Scraper struct {
	opts Options

	mu      sync.Mutex
	loops   map[Target]*loop
	dropped map[EnvKey]uint64
	wg      sync.WaitGroup
}

// EnvKey names an app's environment.
type EnvKey struct{ App, Env string }

// loop is one target's scrapes.
type loop struct {
	t      Target
	cancel context.CancelFunc

	mu     sync.Mutex
	fams   []*dto.MetricFamily // relabelled; nil when the last scrape kept nothing
	status Status
}

// New returns a Scraper without targets.
func New(opts Options) *Scraper {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	return &Scraper{opts: opts, loops: map[Target]*loop{}, dropped: map[EnvKey]uint64{}}
}

// Sync makes targets the scraped set: new ones start (their first scrape
// at once), missing ones stop and their series go. A target that
// changed (address, revision, config) counts as a new one. The loops run
// until ctx ends, Sync drops them or Close.
func (s *Scraper) Sync(ctx context.Context, targets []Target) {
	want := make(map[Target]bool, len(targets))
	for _, t := range targets {
		t.Config = t.Config.WithDefaults()
		want[t] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, l := range s.loops {
		if !want[t] {
			l.cancel()
			delete(s.loops, t)
		}
	}
	for t := range want {
		if s.loops[t] != nil {
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		l := &loop{t: t, cancel: cancel}
		s.loops[t] = l
		s.wg.Go(func() { s.run(lctx, l) })
	}
}

// Close stops every target and waits for their goroutines.
func (s *Scraper) Close() {
	s.Sync(context.Background(), nil)
	s.wg.Wait()
}

// run scrapes l's target at its interval until ctx ends.
func (s *Scraper) run(ctx context.Context, l *loop) {
	tick := time.NewTicker(l.t.Config.Interval)
	defer tick.Stop()
	var lastFailure string
	for {
		err := s.scrape(ctx, l)
		if ctx.Err() != nil {
			return
		}
		switch f := failureKey(err); {
		case f == "":
			lastFailure = ""
		case f != lastFailure:
			lastFailure = f
			if s.opts.OnFailure != nil {
				s.opts.OnFailure(l.t, err)
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// scrape scrapes l's target once and records the outcome.
func (s *Scraper) scrape(ctx context.Context, l *loop) error {
	start := time.Now()
	fams, err := Fetch(ctx, s.opts.Client, l.t)
	series := 0
	if err == nil {
		var refused *Refusal
		if series, refused = Bound(fams, l.t.Config); refused != nil {
			err = refused
			s.mu.Lock()
			s.dropped[EnvKey{l.t.App, l.t.Env}] += uint64(refused.Series)
			s.mu.Unlock()
		}
	}
	var kept []*dto.MetricFamily
	if err == nil {
		kept = Relabel(fams, l.t, s.opts.Reserved)
	}
	l.mu.Lock()
	l.fams = kept
	l.status = Status{At: start, Duration: time.Since(start), Series: series, Scrapes: l.status.Scrapes + 1, Err: err}
	l.mu.Unlock()
	return err
}

// failureKey tells failures apart for OnFailure: "" for none; a
// refusal's reason and label (its counts vary from scrape to scrape);
// another error's text.
func failureKey(err error) string {
	var r *Refusal
	switch {
	case err == nil:
		return ""
	case errors.As(err, &r):
		return string(r.Reason) + "/" + r.Metric + "/" + r.Label
	default:
		return err.Error()
	}
}

// TargetState is a target with its last scrape's outcome and kept series.
type TargetState struct {
	Target Target
	Status Status
	// Families are the kept exposition, relabelled; nil when the last
	// scrape kept nothing. Read-only.
	Families []*dto.MetricFamily
}

// Targets returns every target's state, ordered by app, env, revision and
// instance.
func (s *Scraper) Targets() []TargetState {
	s.mu.Lock()
	out := make([]TargetState, 0, len(s.loops))
	for _, l := range s.loops {
		l.mu.Lock()
		out = append(out, TargetState{Target: l.t, Status: l.status, Families: l.fams})
		l.mu.Unlock()
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b TargetState) int {
		return cmp.Or(cmp.Compare(a.Target.App, b.Target.App), cmp.Compare(a.Target.Env, b.Target.Env),
			cmp.Compare(a.Target.Revision, b.Target.Revision), cmp.Compare(a.Target.Instance, b.Target.Instance))
	})
	return out
}

// Dropped returns, per environment, the series of the expositions refused
// for their bounds since the Scraper started.
func (s *Scraper) Dropped() map[EnvKey]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[EnvKey]uint64, len(s.dropped))
	for k, v := range s.dropped {
		out[k] = v
	}
	return out
}
