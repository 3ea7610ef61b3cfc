package dashboard

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
)

// stream serves GET /api/v1/stream: Server-Sent Events of every
// environment the token may read. Each tick sends an "snapshot" event
// ({"time", "envs": [EnvState...]}); each stored event is sent as an
// "event" event with its store ID as the SSE id, so a client that
// reconnects with Last-Event-ID gets the events it missed first.
func (h *handler) stream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "bad_request", "the stream is read with GET")
		return
	}
	p, _, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	if !p.HasAnywhere(auth.Viewer) {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("the stream needs role viewer on some environment; token '%s' has none", p.Name))
		return
	}
	after, given, err := lastEventID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	sub, start, last, ok := h.d.hub.subscribe(p)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the server is stopping: reconnect")
		return
	}
	defer h.d.hub.unsubscribe(sub)
	ctx := r.Context()
	if start == 0 { // the hub has read no events yet
		if evs, err := h.d.opts.Store.ListEvents(ctx, rollout.EventFilter{Limit: 1}); err == nil && len(evs) > 0 {
			start = evs[len(evs)-1].ID
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var buf bytes.Buffer
	buf.WriteString("retry: 1000\n")
	sent := start
	if given && after < start {
		// A reconnect: the events it missed first.
		h.catchUp(ctx, &buf, p, after, start)
	}
	hello, _ := json.Marshal(map[string]any{"name": p.Name, "lastEvent": start})
	writeEvent(&buf, "hello", start, hello)
	var seen shown
	if last != nil {
		seen.write(&buf, p, last)
	}
	for {
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		buf.Reset()
		select {
		case <-ctx.Done():
			return
		case f, open := <-sub.ch:
			if !open {
				return
			}
			if f.after > sent {
				h.catchUp(ctx, &buf, p, sent, f.after)
				sent = f.after
			}
			for _, ev := range f.events {
				if ev.id > sent && p.Role(ev.env) >= auth.Viewer {
					writeEvent(&buf, "event", ev.id, ev.json)
				}
				sent = max(sent, ev.id)
			}
			seen.write(&buf, p, f)
		}
	}
}

// catchUp writes the events after from up to to that p may read, from
// the store (at most maxEventsPerFrame of them).
func (h *handler) catchUp(ctx context.Context, buf *bytes.Buffer, p auth.Principal, from, to int64) {
	evs, err := h.d.opts.Store.ListEvents(ctx, rollout.EventFilter{AfterID: from, Limit: maxEventsPerFrame})
	if err != nil {
		h.d.opts.Logf("dashboard stream: list events after %d: %v", from, err)
		return
	}
	slices.SortFunc(evs, func(a, b rollout.Event) int { return cmp.Compare(a.ID, b.ID) })
	for _, ev := range evs {
		if ev.ID > to {
			break
		}
		if p.Role(ev.Env) >= auth.Viewer {
			b, _ := json.Marshal(ev)
			writeEvent(buf, "event", ev.ID, b)
		}
	}
}

// lastEventID reads the Last-Event-ID header (or lastEventId query
// parameter); given is false when there is none.
func lastEventID(r *http.Request) (id int64, given bool, err error) {
	v := cmp.Or(r.Header.Get("Last-Event-ID"), r.URL.Query().Get("lastEventId"))
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("Last-Event-ID %q is not an event ID (a whole number ≥ 0)", v)
	}
	return n, true, nil
}

// writeEvent writes one SSE message; id 0: none.
func writeEvent(buf *bytes.Buffer, name string, id int64, data []byte) {
	buf.WriteString("event: " + name + "\n")
	if id > 0 {
		buf.WriteString("id: " + strconv.FormatInt(id, 10) + "\n")
	}
	buf.WriteString("data: ")
	buf.Write(data) // JSON has no raw newlines
	buf.WriteString("\n\n")
}

// series serves GET /dashboard/series?app=&env=: the samples of one
// environment's traffic kept for the charts.
func (h *handler) series(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	app, env := r.URL.Query().Get("app"), r.URL.Query().Get("env")
	if err := p.Allow(fmt.Sprintf("read the traffic of %s in %s", app, env), env, auth.Viewer); err != nil || env == "" {
		msg := "give app= and env="
		if err != nil {
			msg = err.Error()
		}
		writeError(w, http.StatusForbidden, "forbidden", msg)
		return
	}
	s := h.d.hub.series(app, env)
	if s == nil {
		s = []sample{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s)
}
