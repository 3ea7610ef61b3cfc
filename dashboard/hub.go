package dashboard

import (
	"context"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/auth"
)

// hub reads every app's status once per tick while anyone listens and
// fans the frame out to the subscribers.
type hub struct {
	d *Dashboard

	apiMu sync.Mutex
	api   API

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	running bool
	closed  bool
	last    *frame // the latest frame, nil before the first
	col     collector
}

// subscriber is one open stream.
type subscriber struct {
	p  auth.Principal
	ch chan *frame // closed when the hub drops it (too slow, or closing)
}

// subscriberBuffer is how many frames a stream may fall behind before it
// is dropped; the browser then reconnects and catches up.
const subscriberBuffer = 8

func newHub(d *Dashboard) *hub {
	return &hub{d: d, subs: map[*subscriber]struct{}{}, col: newCollector()}
}

func (h *hub) setAPI(a API) {
	h.apiMu.Lock()
	h.api = a
	h.apiMu.Unlock()
}

func (h *hub) currentAPI() API {
	h.apiMu.Lock()
	defer h.apiMu.Unlock()
	return h.api
}

// subscribe adds a stream for p and returns it with the ID of the last
// event the hub has seen (the stream's starting point) and the latest
// frame, if any. ok is false once the hub is closed.
func (h *hub) subscribe(p auth.Principal) (s *subscriber, lastEvent int64, last *frame, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, nil, false
	}
	s = &subscriber{p: p, ch: make(chan *frame, subscriberBuffer)}
	h.subs[s] = struct{}{}
	if !h.running {
		h.running = true
		go h.run()
	}
	return s, h.col.lastEventID(), h.last, true
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// run collects a frame per tick and fans it out, until no one listens.
func (h *hub) run() {
	t := time.NewTicker(h.d.opts.Tick)
	defer t.Stop()
	for {
		f := h.collect()
		h.mu.Lock()
		if f != nil {
			h.last = f
		}
		if len(h.subs) == 0 || h.closed {
			h.running = false
			h.mu.Unlock()
			return
		}
		if f != nil {
			for s := range h.subs {
				select {
				case s.ch <- f:
				default: // too slow: dropped, it reconnects
					delete(h.subs, s)
					close(s.ch)
				}
			}
		}
		h.mu.Unlock()
		<-t.C
	}
}

// collect reads one frame; nil when the store could not be read (logged).
func (h *hub) collect() *frame {
	a := h.currentAPI()
	if a == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := h.col.collect(ctx, h.d.opts.Store, a, h.d.opts.Now())
	if err != nil {
		h.mu.Lock()
		closed := h.closed
		h.mu.Unlock()
		if !closed {
			h.d.opts.Logf("dashboard stream: %v", err)
		}
		return nil
	}
	return f
}

// close ends every stream and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}

// series returns the samples kept of one environment.
func (h *hub) series(app, env string) []sample {
	return h.col.seriesOf(app, env)
}
