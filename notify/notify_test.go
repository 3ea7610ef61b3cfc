package notify

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// receiver is a local HTTP receiver that records the requests it gets
// and answers the status codes of answers, in order, then 200.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []request
	answers []int
	arrived chan struct{}
}

type request struct {
	path    string
	header  http.Header
	body    []byte
	decoded map[string]any
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers, arrived: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var d map[string]any
		_ = json.Unmarshal(b, &d)
		r.mu.Lock()
		status := http.StatusOK
		if len(r.answers) > 0 {
			status, r.answers = r.answers[0], r.answers[1:]
		}
		if status == http.StatusOK {
			r.got = append(r.got, request{path: req.URL.Path, header: req.Header, body: b, decoded: d})
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		if status == http.StatusOK {
			r.arrived <- struct{}{}
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the first n requests received.
func (r *receiver) wait(t *testing.T, n int) []request {
	t.Helper()
	for r.count() < n {
		select {
		case <-r.arrived:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: %d of %d requests after 30s", r.URL, r.count(), n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[:n]
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func start(t *testing.T, cfg string) *Notifier {
	t.Helper()
	c, err := ParseConfig("notifications.yml", []byte(cfg), func(string) (string, bool) { return "s3cret", true })
	if err != nil {
		t.Fatal(err)
	}
	n := New(Options{Config: c, Backoff: 10 * time.Millisecond, Logf: t.Logf})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return n
}

var t0 = time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)

func alert(state string) Alert {
	a := Alert{Name: "HighErrorRate", State: state, Rule: "plan.rules.yml:4", Value: 0.31,
		Labels:      map[string]string{"alertname": "HighErrorRate", "app": "web", "env": "prod", "revision": "2", "version": "v2", "status": "5xx"},
		Annotations: map[string]string{"summary": "High error rate detected"}, StartsAt: t0}
	if state == "resolved" {
		a.EndsAt = t0.Add(7 * time.Minute)
	}
	return a
}

func TestSlack_triggerAndResolve(t *testing.T) {
	slack := newReceiver(t)
	n := start(t, "receivers:\n- name: team\n  slack: {webhookURL: "+slack.URL+"/services/T0/B0/XXX}\nroute: {alerts: [team]}\n")
	n.Alerts(t0, []Alert{alert("firing")}, []Alert{alert("firing")})
	n.Alerts(t0.Add(7*time.Minute), nil, []Alert{alert("resolved")})
	got := slack.wait(t, 2)
	for i, want := range []struct{ prefix, color string }{{"[FIRING] HighErrorRate web/prod v2: High error rate detected", "danger"}, {"[RESOLVED] HighErrorRate", "good"}} {
		var m SlackMessage
		dec := json.NewDecoder(strings.NewReader(string(got[i].body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("slack body %d: %v: %s", i, err, got[i].body)
		}
		if got[i].path != "/services/T0/B0/XXX" || !strings.HasPrefix(m.Text, want.prefix) || len(m.Attachments) != 1 || m.Attachments[0].Color != want.color {
			t.Errorf("slack message %d: %s %+v", i, got[i].path, m)
		}
		if got[i].header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", got[i].header.Get("Content-Type"))
		}
	}
}

func TestPagerDuty_triggerAndResolveWithDedupKey(t *testing.T) {
	pd := newReceiver(t)
	n := start(t, "receivers:\n- name: oncall\n  pagerduty: {routingKey: R0UT1NGKEY, url: "+pd.URL+"/v2/enqueue, severity: error}\nroute: {alerts: [oncall], events: [oncall]}\n")
	n.Alerts(t0, []Alert{alert("firing")}, []Alert{alert("firing")})
	n.Alerts(t0.Add(7*time.Minute), nil, []Alert{alert("resolved")})
	got := pd.wait(t, 2)
	trig, res := got[0].decoded, got[1].decoded
	payload, _ := trig["payload"].(map[string]any)
	// The Events API v2 requires routing_key, event_action, and for a
	// trigger payload.summary, payload.source and payload.severity.
	if trig["routing_key"] != "R0UT1NGKEY" || trig["event_action"] != "trigger" || payload == nil ||
		payload["summary"] == "" || payload["source"] != "gantry web/prod v2" || payload["severity"] != "error" {
		t.Errorf("trigger: %s", got[0].body)
	}
	key, _ := trig["dedup_key"].(string)
	if key == "" || res["dedup_key"] != key || res["event_action"] != "resolve" || res["routing_key"] != "R0UT1NGKEY" || res["payload"] != nil {
		t.Errorf("resolve %s does not resolve trigger %s", got[1].body, got[0].body)
	}
	// Rollout events: a rollback is an incident; a start is a change event.
	n.Event(t0, Event{Kind: RollingBack, Event: rollout.Event{App: "web", Env: "prod", RolloutID: 7, Type: rollout.Warning, Reason: rollout.ReasonErrorRate, Message: "5xx 30% > 5%"}})
	n.Event(t0, Event{Kind: Started, Event: rollout.Event{App: "web", Env: "prod", RolloutID: 8, Type: rollout.Normal, Reason: rollout.ReasonRolloutStarted}})
	got = pd.wait(t, 4)
	paths := map[string]map[string]any{got[2].path: got[2].decoded, got[3].path: got[3].decoded}
	if inc := paths["/v2/enqueue"]; inc == nil || inc["event_action"] != "trigger" || inc["dedup_key"] != "gantry/rollout/web/prod/7" {
		t.Errorf("rollback incident: %v", paths)
	}
	if ch := paths["/v2/change/enqueue"]; ch == nil || ch["event_action"] != nil {
		t.Errorf("change event: %v", paths)
	}
}

func TestWebhook_signedWithHMAC(t *testing.T) {
	hook := newReceiver(t)
	n := start(t, "receivers:\n- name: hook\n  webhook: {url: "+hook.URL+"/gantry, secret: \"${HOOK_SECRET}\"}\nroute: {alerts: [hook], events: [hook]}\n")
	n.Event(t0, Event{Kind: Promoted, Event: rollout.Event{App: "web", Env: "prod", RolloutID: 3, Reason: rollout.ReasonPromoted}})
	got := hook.wait(t, 1)[0]
	sig := got.header.Get(SignatureHeader)
	if !Verify("s3cret", got.body, sig) {
		t.Fatalf("signature %q does not verify the body with the secret", sig)
	}
	if Verify("other", got.body, sig) || Verify("s3cret", append(got.body, ' '), sig) {
		t.Fatal("the signature verifies a wrong secret or a changed body")
	}
	var b WebhookBody
	if err := json.Unmarshal(got.body, &b); err != nil || b.Kind != "event" || b.Event == nil || b.Event.Kind != Promoted || b.Event.RolloutID != 3 {
		t.Fatalf("body %s: %v", got.body, err)
	}
}

func TestNotifier_retriesWithBackoff(t *testing.T) {
	slack := newReceiver(t, 503, 429)
	n := start(t, "receivers:\n- name: team\n  slack: {webhookURL: "+slack.URL+"}\nroute: {alerts: [team]}\n")
	n.Alerts(t0, nil, []Alert{alert("firing")})
	slack.wait(t, 1)
	deadline := time.Now().Add(30 * time.Second)
	for n.Stats()["team"].Sent == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the receiver answered; the count follows
	}
	if s := n.Stats()["team"]; s.Sent != 1 || s.Retries != 2 || s.Failed != 0 {
		t.Fatalf("stats %+v, want 1 sent after 2 retries", s)
	}
}

// TestNotifier_downReceiverNeverBlocks: a receiver that takes no
// connections fills its queue; further notifications are dropped, counted,
// and the caller goes on.
func TestNotifier_downReceiverNeverBlocks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c, err := ParseConfig("n.yml", []byte("receivers:\n- name: down\n  slack: {webhookURL: http://"+addr+"/x}\nroute: {alerts: [down], events: [down]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := New(Options{Config: c, QueueSize: 2, Backoff: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	for range 50 {
		n.Alerts(t0, nil, []Alert{alert("firing")})
		n.Event(t0, Event{Kind: Failed, Event: rollout.Event{App: "web", Env: "prod"}})
	}
	s := n.Stats()["down"]
	if s.Dropped < 100-3 || s.Sent != 0 {
		t.Fatalf("stats %+v: want the queue (2) and one in delivery kept, the rest dropped", s)
	}
	cancel()
	<-done
}

func TestKindOf(t *testing.T) {
	for _, c := range []struct {
		e    rollout.Event
		want EventKind
	}{
		{rollout.Event{Reason: rollout.ReasonRolloutStarted, From: rollout.Pending, To: rollout.Progressing}, Started},
		{rollout.Event{Reason: rollout.ReasonPaused, From: rollout.Progressing, To: rollout.Paused}, Paused},
		{rollout.Event{Reason: rollout.ReasonPromoted}, Promoted},
		{rollout.Event{Reason: rollout.ReasonRolloutSucceeded, From: rollout.Progressing, To: rollout.Succeeded}, Succeeded},
		{rollout.Event{Reason: rollout.ReasonErrorRate, From: rollout.Progressing, To: rollout.RollingBack}, RollingBack},
		{rollout.Event{Reason: rollout.ReasonErrorRate, From: rollout.RollingBack, To: rollout.RolledBack}, RolledBack},
		{rollout.Event{Reason: rollout.ReasonAborted, From: rollout.RollingBack, To: rollout.Aborted}, Aborted},
		{rollout.Event{Reason: rollout.ReasonRollbackStalled, From: rollout.RollingBack, To: rollout.Failed}, Failed},
		{rollout.Event{Reason: rollout.ReasonScaled}, ""},
		{rollout.Event{Reason: rollout.ReasonInstanceRestarted}, ""},
	} {
		got, ok := KindOf(c.e)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s %s→%s: %q %v, want %q", c.e.Reason, c.e.From, c.e.To, got, ok, c.want)
		}
	}
}

func TestParseConfig_badInput(t *testing.T) {
	env := func(n string) (string, bool) { return "", n == "SET" }
	for _, c := range []struct{ name, text, want string }{
		{"unknown field", "receivers:\n- name: a\n  slak: {webhookURL: http://x}\n", "line 3: field slak not found"},
		{"unknown receiver", "receivers:\n- name: a\n  slack: {webhookURL: http://x/y}\nroute:\n  alerts: [a, b]\n", `n.yml:5: route.alerts: unknown receiver "b"`},
		{"two kinds", "receivers:\n- name: a\n  slack: {webhookURL: http://x/y}\n  webhook: {url: http://x/y, secret: s}\n", `n.yml:2: receiver "a": set exactly one`},
		{"no secret", "receivers:\n- name: a\n  webhook: {url: http://x/y}\n", "n.yml:2: receiver a: webhook.secret is required"},
		{"unset variable", "receivers:\n- name: a\n  pagerduty: {routingKey: \"${PD_KEY}\"}\n", "n.yml:2: pagerduty.routingKey: environment variable PD_KEY is not set"},
		{"bad url", "receivers:\n- name: a\n  alertmanager: {url: \"localhost:9093\"}\n", `alertmanager.url: "localhost:9093" is not an http(s) URL`},
		{"duplicate", "receivers:\n- name: a\n  slack: {webhookURL: http://x/y}\n- name: a\n  slack: {webhookURL: http://x/y}\n", `n.yml:4: receiver "a" is already defined at line 2`},
		{"events to alertmanager", "receivers:\n- name: am\n  alertmanager: {url: \"http://127.0.0.1:9093\"}\nroute: {events: [am]}\n", "takes alerts only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("n.yml", []byte(c.text), env)
			if err == nil || cfg != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, %v; want an error with %q", cfg, err, c.want)
			}
		})
	}
}
