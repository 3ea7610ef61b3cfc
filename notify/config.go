// Package notify sends gantry's alerts and rollout events to Slack
// incoming webhooks, PagerDuty's Events API v2, signed generic webhooks
// and Alertmanager's v2 API, with retries and back-off, never blocking
// the caller.
package notify

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Config is a notifications file: the receivers and which of them get
// alerts and rollout events.
type Config struct {
	Receivers []Receiver `yaml:"receivers"`
	Route     Route      `yaml:"route"`
}

// Receiver is one destination; exactly one of its kinds is set.
type Receiver struct {
	// Name is how rules (label receiver) and the route refer to it.
	Name         string        `yaml:"name"`
	Slack        *Slack        `yaml:"slack,omitempty"`
	PagerDuty    *PagerDuty    `yaml:"pagerduty,omitempty"`
	Webhook      *Webhook      `yaml:"webhook,omitempty"`
	Alertmanager *Alertmanager `yaml:"alertmanager,omitempty"`
}

// Slack posts to a Slack incoming webhook.
type Slack struct {
	// WebhookURL is the incoming webhook's URL (https://hooks.slack.com/services/…).
	WebhookURL string `yaml:"webhookURL"`
}

// PagerDuty sends PagerDuty Events API v2 events.
type PagerDuty struct {
	// RoutingKey is the integration key of a PagerDuty service.
	RoutingKey string `yaml:"routingKey"`
	// URL is the events endpoint; empty: https://events.pagerduty.com/v2/enqueue.
	URL string `yaml:"url,omitempty"`
	// Severity of alerts without a severity label: critical, error,
	// warning or info; empty: critical.
	Severity string `yaml:"severity,omitempty"`
}

// Webhook posts gantry's JSON to any URL, signed with HMAC-SHA256.
type Webhook struct {
	URL string `yaml:"url"`
	// Secret keys the signature header X-Gantry-Signature-256; required.
	Secret string `yaml:"secret"`
}

// Alertmanager posts alerts to an Alertmanager's /api/v2/alerts, so its
// routing, grouping and silences apply. It gets alerts only.
type Alertmanager struct {
	// URL is the Alertmanager's base URL, such as http://127.0.0.1:9093.
	URL string `yaml:"url"`
}

// Route says who gets what.
type Route struct {
	// Alerts are the receivers of alerts whose rule names none (label receiver).
	Alerts []string `yaml:"alerts"`
	// Events are the receivers of rollout events: started, paused,
	// promoted, succeeded, rolling back, rolled back, aborted, failed.
	Events []string `yaml:"events"`
}

// DefaultPagerDutyURL is PagerDuty's Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// Has says whether a receiver of that name is configured.
func (c *Config) Has(name string) bool {
	return slices.ContainsFunc(c.Receivers, func(r Receiver) bool { return r.Name == name })
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// LoadConfig reads a notifications file. ${NAME} in a URL, routing key or
// secret is replaced by environment variable NAME. Every problem is
// reported with the file and line.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	c, err := ParseConfig(path, b, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return c, nil
}

// ParseConfig parses a notifications file's content, named file in
// errors, looking variables up with lookup.
func ParseConfig(file string, content []byte, lookup func(string) (string, bool)) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var lines struct {
		Receivers []struct {
			Name yaml.Node `yaml:"name"`
		} `yaml:"receivers"`
		Route struct {
			Alerts []yaml.Node `yaml:"alerts"`
			Events []yaml.Node `yaml:"events"`
		} `yaml:"route"`
	}
	if err := yaml.Unmarshal(content, &lines); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	expand := func(line int, field, v string) string {
		return envRef.ReplaceAllStringFunc(v, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			val, ok := lookup(name)
			if !ok {
				bad(line, "%s: environment variable %s is not set", field, name)
			}
			return val
		})
	}
	checkURL := func(line int, field, v string) {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(line, "%s: %q is not an http(s) URL", field, v)
		}
	}
	seen := map[string]int{}
	for i := range c.Receivers {
		r := &c.Receivers[i]
		line := lines.Receivers[i].Name.Line
		if line == 0 {
			line = 1
		}
		if r.Name == "" {
			bad(line, "receivers[%d]: name is required", i)
		} else if first, dup := seen[r.Name]; dup {
			bad(line, "receiver %q is already defined at line %d: give each receiver its own name", r.Name, first)
		}
		seen[r.Name] = line
		kinds := 0
		if s := r.Slack; s != nil {
			kinds++
			s.WebhookURL = expand(line, "slack.webhookURL", s.WebhookURL)
			checkURL(line, "receiver "+r.Name+": slack.webhookURL", s.WebhookURL)
		}
		if p := r.PagerDuty; p != nil {
			kinds++
			p.RoutingKey = expand(line, "pagerduty.routingKey", p.RoutingKey)
			if p.RoutingKey == "" {
				bad(line, "receiver %s: pagerduty.routingKey is required: the integration key of a PagerDuty service (Events API v2)", r.Name)
			}
			if p.URL = expand(line, "pagerduty.url", p.URL); p.URL == "" {
				p.URL = DefaultPagerDutyURL
			}
			checkURL(line, "receiver "+r.Name+": pagerduty.url", p.URL)
			if p.Severity == "" {
				p.Severity = "critical"
			}
			if !slices.Contains(pdSeverities, p.Severity) {
				bad(line, "receiver %s: pagerduty.severity %q: use critical, error, warning or info", r.Name, p.Severity)
			}
		}
		if w := r.Webhook; w != nil {
			kinds++
			w.URL = expand(line, "webhook.url", w.URL)
			checkURL(line, "receiver "+r.Name+": webhook.url", w.URL)
			if w.Secret = expand(line, "webhook.secret", w.Secret); w.Secret == "" {
				bad(line, "receiver %s: webhook.secret is required: requests are signed with it (write it as ${VARIABLE} to keep it out of the file)", r.Name)
			}
		}
		if a := r.Alertmanager; a != nil {
			kinds++
			a.URL = expand(line, "alertmanager.url", a.URL)
			checkURL(line, "receiver "+r.Name+": alertmanager.url", a.URL)
		}
		if kinds != 1 {
			bad(line, "receiver %q: set exactly one of slack, pagerduty, webhook, alertmanager (found %d)", r.Name, kinds)
		}
	}
	for i, name := range c.Route.Alerts {
		if !c.Has(name) {
			bad(lines.Route.Alerts[i].Line, "route.alerts: unknown receiver %q: define it under receivers", name)
		}
	}
	for i, name := range c.Route.Events {
		switch {
		case !c.Has(name):
			bad(lines.Route.Events[i].Line, "route.events: unknown receiver %q: define it under receivers", name)
		case c.receiver(name).Alertmanager != nil:
			bad(lines.Route.Events[i].Line, "route.events: receiver %q is an Alertmanager, which takes alerts only: route events to slack, pagerduty or webhook receivers", name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

var pdSeverities = []string{"critical", "error", "warning", "info"}

func (c *Config) receiver(name string) *Receiver {
	for i := range c.Receivers {
		if c.Receivers[i].Name == name {
			return &c.Receivers[i]
		}
	}
	return nil
}
