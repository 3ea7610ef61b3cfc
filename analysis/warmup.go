package analysis

import (
	"fmt"
	"strings"
	"time"
)

// warmUp follows one group's warm-up: the requests it served since its
// newest instance became ready.
type warmUp struct {
	since  time.Time // the group's NewestReady
	served uint64
	ready  int
	at     time.Time // the last observation
}

// observe adds an interval and reports whether the group is warming up.
func (w *warmUp) observe(in Instances, served uint64, at time.Time, cfg Config) bool {
	if !in.NewestReady.Equal(w.since) {
		w.since, w.served = in.NewestReady, 0
	}
	w.served += served
	w.ready, w.at = in.Ready, at
	return w.warming(cfg)
}

func (w *warmUp) warming(cfg Config) bool {
	if w.since.IsZero() {
		return false
	}
	return w.at.Sub(w.since) < orNone(cfg.WarmUp) || w.served < w.need(cfg)
}

// need is the number of requests the group must serve after its newest
// instance became ready: WarmUpRequests for each ready instance, as the
// router spreads a group's requests evenly over its instances.
func (w *warmUp) need(cfg Config) uint64 {
	return uint64(orNone(cfg.WarmUpRequests)) * uint64(max(w.ready, 1))
}

// warmUpReason explains which group is warming up and how far along it is.
func (a *Analyzer) warmUpReason() Reason {
	var parts []string
	for _, g := range []struct {
		name string
		w    *warmUp
	}{{"canary", &a.canaryWarm}, {"baseline", &a.baseWarm}} {
		if !g.w.warming(a.cfg) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s ready for %s of %s, %s of %s requests",
			g.name, g.w.at.Sub(g.w.since).Round(time.Second), orNone(a.cfg.WarmUp), count(g.w.served), count(g.w.need(a.cfg))))
	}
	return Reason{Trigger: WarmUp, Message: fmt.Sprintf("warming up, not compared yet: %s (an instance's first %d requests and %s after ready are not compared)",
		strings.Join(parts, "; "), orNone(a.cfg.WarmUpRequests), orNone(a.cfg.WarmUp))}
}
