package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxAttempts    = 6
	DefaultBackoff        = time.Second
	MaxBackoff            = time.Minute
	DefaultQueueSize      = 1000
	DefaultResendInterval = time.Minute
	DefaultTimeout        = 10 * time.Second
)

// Options configure a Notifier.
type Options struct {
	Config *Config
	// Client sends the requests; nil: one with DefaultTimeout.
	Client *http.Client
	// MaxAttempts bounds the tries of one delivery; 0: DefaultMaxAttempts.
	// Network errors, 408, 429 and 5xx answers are retried; other answers are not.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubling up to MaxBackoff; 0: DefaultBackoff.
	Backoff time.Duration
	// QueueSize bounds each receiver's pending deliveries; beyond it new
	// ones are dropped (and counted), so a receiver that is down never
	// blocks gantry. 0: DefaultQueueSize.
	QueueSize int
	// ResendInterval is how often firing alerts are resent to
	// Alertmanager receivers, which resolve alerts not resent; 0: DefaultResendInterval.
	ResendInterval time.Duration
	// Logf receives delivery failures; nil: silent.
	Logf func(format string, args ...any)
}

// Stats count one receiver's deliveries.
type Stats struct {
	// Sent were accepted by the receiver; Failed gave up after their
	// attempts (or on an answer not worth retrying); Dropped found the
	// queue full; Retries counts the attempts after a first one.
	Sent, Failed, Dropped, Retries uint64
}

// Notifier delivers alerts and rollout events to the configured
// receivers, each from its own queue and goroutine.
type Notifier struct {
	opts  Options
	queue map[string]chan delivery

	mu       sync.Mutex
	stats    map[string]*Stats
	lastSent map[string]time.Time // Alertmanager resends, by receiver and dedup key

	wg sync.WaitGroup
}

type delivery struct {
	url     string
	body    []byte
	headers map[string]string
	what    string
}

// New returns a Notifier; Run delivers.
func New(opts Options) *Notifier {
	if opts.Config == nil {
		opts.Config = &Config{}
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.ResendInterval <= 0 {
		opts.ResendInterval = DefaultResendInterval
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	n := &Notifier{opts: opts, queue: map[string]chan delivery{}, stats: map[string]*Stats{}, lastSent: map[string]time.Time{}}
	for _, r := range opts.Config.Receivers {
		n.queue[r.Name] = make(chan delivery, opts.QueueSize)
		n.stats[r.Name] = &Stats{}
	}
	return n
}

// Run delivers until ctx ends; what is still queued then is not sent.
func (n *Notifier) Run(ctx context.Context) {
	for name, q := range n.queue {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-q:
					n.deliver(ctx, name, d)
				}
			}
		}()
	}
	<-ctx.Done()
	n.wg.Wait()
}

// Stats reports every receiver's counts.
func (n *Notifier) Stats() map[string]Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string]Stats, len(n.stats))
	for k, v := range n.stats {
		out[k] = *v
	}
	return out
}

// Alerts notifies an evaluation's alerts: changed are those that started
// firing or resolved at it (sent to every receiver of their route);
// firing are all alerts firing now (resent to Alertmanager receivers
// every ResendInterval). It never blocks.
func (n *Notifier) Alerts(now time.Time, firing, changed []Alert) {
	for _, a := range changed {
		for _, name := range n.alertReceivers(a) {
			n.sendAlert(now, name, a)
		}
	}
	for _, a := range firing {
		for _, name := range n.alertReceivers(a) {
			if r := n.opts.Config.receiver(name); r != nil && r.Alertmanager != nil {
				n.mu.Lock()
				due := now.Sub(n.lastSent[name+"\x00"+a.DedupKey()]) >= n.opts.ResendInterval
				n.mu.Unlock()
				if due {
					n.sendAlert(now, name, a)
				}
			}
		}
	}
}

func (n *Notifier) alertReceivers(a Alert) []string {
	if len(a.Receivers) > 0 {
		return a.Receivers
	}
	return n.opts.Config.Route.Alerts
}

func (n *Notifier) sendAlert(now time.Time, name string, a Alert) {
	r := n.opts.Config.receiver(name)
	if r == nil {
		return
	}
	what := fmt.Sprintf("alert %s %s", a.Name, a.State)
	switch {
	case r.Slack != nil:
		n.enqueue(name, r.Slack.WebhookURL, slackAlert(a), what, nil)
	case r.PagerDuty != nil:
		n.enqueue(name, r.PagerDuty.URL, pagerDutyAlert(*r.PagerDuty, a), what, nil)
	case r.Webhook != nil:
		n.enqueueWebhook(name, *r.Webhook, WebhookBody{Kind: "alert", SentAt: now, Alert: &a}, what)
	case r.Alertmanager != nil:
		n.mu.Lock()
		n.lastSent[name+"\x00"+a.DedupKey()] = now
		if !a.Firing() {
			delete(n.lastSent, name+"\x00"+a.DedupKey())
		}
		n.mu.Unlock()
		endsBy := now.Add(4 * n.opts.ResendInterval)
		n.enqueue(name, strings.TrimSuffix(r.Alertmanager.URL, "/")+"/api/v2/alerts", []AlertmanagerAlert{alertmanagerAlert(a, endsBy)}, what, nil)
	}
}

// Event notifies a rollout event to the route's events receivers if it
// is one that is notified (KindOf). It never blocks.
func (n *Notifier) Event(now time.Time, e Event) {
	what := fmt.Sprintf("event %s/%s rollout %d %s", e.App, e.Env, e.RolloutID, e.Kind)
	for _, name := range n.opts.Config.Route.Events {
		r := n.opts.Config.receiver(name)
		switch {
		case r == nil:
		case r.Slack != nil:
			n.enqueue(name, r.Slack.WebhookURL, slackEvent(e), what, nil)
		case r.PagerDuty != nil:
			body, url := pagerDutyEvent(*r.PagerDuty, e)
			n.enqueue(name, url, body, what, nil)
		case r.Webhook != nil:
			n.enqueueWebhook(name, *r.Webhook, WebhookBody{Kind: "event", SentAt: now, Event: &e}, what)
		}
	}
}

func (n *Notifier) enqueueWebhook(name string, w Webhook, body WebhookBody, what string) {
	b, err := json.Marshal(body)
	if err != nil {
		n.opts.Logf("notify %s: %s: encode: %v", name, what, err)
		return
	}
	n.enqueue(name, w.URL, json.RawMessage(b), what, map[string]string{SignatureHeader: Sign(w.Secret, b)})
}

func (n *Notifier) enqueue(name, url string, payload any, what string, headers map[string]string) {
	b, err := json.Marshal(payload)
	if err != nil {
		n.opts.Logf("notify %s: %s: encode: %v", name, what, err)
		return
	}
	select {
	case n.queue[name] <- delivery{url: url, body: b, headers: headers, what: what}:
	default:
		n.count(name, func(s *Stats) { s.Dropped++ })
		n.opts.Logf("notify %s: queue full (%d pending): dropped %s", name, n.opts.QueueSize, what)
	}
}

func (n *Notifier) count(name string, f func(*Stats)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f(n.stats[name])
}

// deliver posts d, retrying with back-off.
func (n *Notifier) deliver(ctx context.Context, name string, d delivery) {
	wait := n.opts.Backoff
	for attempt := 1; ; attempt++ {
		retry, err := n.post(ctx, d)
		if err == nil {
			n.count(name, func(s *Stats) { s.Sent++ })
			return
		}
		if !retry || attempt >= n.opts.MaxAttempts || ctx.Err() != nil {
			n.count(name, func(s *Stats) { s.Failed++ })
			n.opts.Logf("notify %s: %s: gave up after %d attempt(s): %v", name, d.what, attempt, err)
			return
		}
		n.count(name, func(s *Stats) { s.Retries++ })
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, MaxBackoff)
	}
}

// post makes one attempt; retry says whether another may succeed.
func (n *Notifier) post(ctx context.Context, d delivery) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gantry-notify")
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("POST %s: %s: %s", redact(d.url), resp.Status, strings.TrimSpace(string(msg)))
	return resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500, err
}

// redact keeps a URL's scheme, host and first path segment: webhook URLs carry secrets.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "(url)"
	}
	host, path, _ := strings.Cut(rest, "/")
	first, _, more := strings.Cut(path, "/")
	if more {
		first += "/…"
	}
	return scheme + "://" + host + "/" + first
}
