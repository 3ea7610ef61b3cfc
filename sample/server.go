package sample

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"
)

// server holds the handlers' shared state.
type server struct {
	cfg      Config
	started  time.Time
	db       *database
	stopping atomic.Bool
	metrics  *metrics
}

func newServer(cfg Config) (*server, error) {
	s := &server{cfg: cfg, started: time.Now(), metrics: newMetrics(cfg.Version)}
	if cfg.Knobs.DBDown {
		db, err := openDownDatabase()
		if err != nil {
			return nil, err
		}
		s.db = db
	}
	return s, nil
}

func (s *server) close() {
	if s.db != nil {
		s.db.close()
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.health)
	mux.HandleFunc("/ready", s.ready)
	mux.Handle("/metrics", s.metrics.handler())
	mux.HandleFunc("/ws", s.websocket)
	mux.HandleFunc("/echo", s.faulty(s.echo))
	mux.HandleFunc("/db", s.faulty(s.dbQuery))
	mux.HandleFunc("/", s.faulty(s.hello))
	return mux
}

// faulty applies the errors and latency knobs before h, counted and
// timed in the sample's /metrics.
func (s *server) faulty(h http.HandlerFunc) http.HandlerFunc {
	return s.metrics.instrument(func(w http.ResponseWriter, r *http.Request) {
		k := s.cfg.Knobs
		delay := k.Latency
		if k.LatencyJitter > 0 {
			delay += rand.N(k.LatencyJitter)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if k.Errors > 0 && rand.Float64() < k.Errors {
			writeJSON(w, http.StatusInternalServerError, "application/json", map[string]string{
				"error": "injected failure (errors knob)", "version": s.cfg.Version, "instance": s.cfg.Instance,
			})
			return
		}
		h(w, r)
	})
}

func (s *server) hello(w http.ResponseWriter, r *http.Request) {
	result := "passed"
	if k := s.cfg.Knobs.Invalid; k > 0 && rand.Float64() < k {
		result = "failed"
	}
	s.metrics.validations.WithLabelValues(result).Inc()
	writeJSON(w, http.StatusOK, "application/json", map[string]string{
		"version": s.cfg.Version, "instance": s.cfg.Instance, "path": r.URL.Path, "validation": result,
	})
}

func (s *server) echo(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	io.Copy(w, r.Body)
}

func (s *server) dbQuery(w http.ResponseWriter, r *http.Request) {
	if s.db != nil {
		if err := s.db.ping(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, "application/json", map[string]string{
				"error": "database unavailable: " + err.Error(), "version": s.cfg.Version, "instance": s.cfg.Instance,
			})
			return
		}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"version": s.cfg.Version, "instance": s.cfg.Instance, "rows": 1,
	})
}

// ready answers 200 once the process is ready for traffic and 503 with the
// reason otherwise. A database outage does not make the process unready.
func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	reason := ""
	switch k := s.cfg.Knobs; {
	case s.stopping.Load():
		reason = "shutting down"
	case k.NeverReady:
		reason = "never ready (never-ready knob)"
	case k.UnreadyAfter > 0 && time.Since(s.started) >= k.UnreadyAfter:
		reason = "lost readiness (unready-after knob)"
	case time.Since(s.started) < k.SlowStart:
		reason = "starting: ready " + (k.SlowStart - time.Since(s.started)).Round(time.Millisecond).String() + " from now (slow-start knob)"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: "+reason+"\n")
		return
	}
	io.WriteString(w, "ready\n")
}

// healthCheck is one entry of a health+json "checks" list.
type healthCheck struct {
	Status string `json:"status"`
	Output string `json:"output,omitempty"`
}

// healthResponse is the application/health+json document
// (draft-inadarei-api-health-check).
type healthResponse struct {
	Status    string                   `json:"status"`
	Version   string                   `json:"version"`
	ServiceID string                   `json:"serviceId,omitempty"`
	Checks    map[string][]healthCheck `json:"checks"`
}

// health is the liveness endpoint: the process answers 200 while alive; a
// failing dependency turns its status to "warn" without failing liveness.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	resp := healthResponse{Status: "pass", Version: s.cfg.Version, ServiceID: s.cfg.Instance}
	check := healthCheck{Status: "pass"}
	if s.db != nil {
		if err := s.db.ping(); err != nil {
			check = healthCheck{Status: "fail", Output: err.Error()}
			resp.Status = "warn"
		}
	}
	resp.Checks = map[string][]healthCheck{"database:connection": {check}}
	writeJSON(w, http.StatusOK, "application/health+json", resp)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	b, _ := json.Marshal(v)
	w.Write(append(b, '\n'))
}
