package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SlackMessage is the body of a Slack incoming webhook post.
type SlackMessage struct {
	Text        string            `json:"text"`
	Attachments []SlackAttachment `json:"attachments,omitempty"`
}

// SlackAttachment is a coloured block of a Slack message.
type SlackAttachment struct {
	Color  string       `json:"color"`
	Title  string       `json:"title"`
	Text   string       `json:"text,omitempty"`
	Fields []SlackField `json:"fields,omitempty"`
	Footer string       `json:"footer,omitempty"`
	TS     int64        `json:"ts,omitempty"`
}

// SlackField is one short field of an attachment.
type SlackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// slackAlert renders an alert for Slack: red while firing, green resolved.
func slackAlert(a Alert) SlackMessage {
	color := "danger"
	if !a.Firing() {
		color = "good"
	}
	var fields []SlackField
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if k != "alertname" {
			fields = append(fields, SlackField{Title: k, Value: a.Labels[k], Short: true})
		}
	}
	fields = append(fields, SlackField{Title: "value", Value: fmt.Sprintf("%g", a.Value), Short: true})
	return SlackMessage{Text: a.Title(), Attachments: []SlackAttachment{{
		Color: color, Title: a.Name, Text: a.Annotations["description"], Fields: fields,
		Footer: "gantry rule " + a.Rule, TS: a.StartsAt.Unix(),
	}}}
}

// slackEvent renders a rollout event for Slack.
func slackEvent(e Event) SlackMessage {
	color := "good"
	switch {
	case e.Bad():
		color = "danger"
	case e.Kind == RolledBack || e.Kind == Aborted || e.Kind == Paused:
		color = "warning"
	}
	return SlackMessage{Text: e.Title(), Attachments: []SlackAttachment{{
		Color: color, Title: fmt.Sprintf("%s/%s rollout %d %s", e.App, e.Env, e.RolloutID, e.Kind), Text: e.Message,
		Fields: []SlackField{{Title: "reason", Value: string(e.Reason), Short: true}, {Title: "by", Value: e.Actor, Short: true}},
		Footer: "gantry", TS: e.Time.Unix(),
	}}}
}

// PagerDutyEvent is an Events API v2 event (alert events and change events).
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action,omitempty"`
	DedupKey    string            `json:"dedup_key,omitempty"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Client      string            `json:"client,omitempty"`
}

// PagerDutyPayload is an event's payload.
type PagerDutyPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity,omitempty"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// pagerDutyAlert is the trigger (firing) or resolve (resolved) event of
// an alert, deduplicated on the alert's DedupKey.
func pagerDutyAlert(p PagerDuty, a Alert) PagerDutyEvent {
	ev := PagerDutyEvent{RoutingKey: p.RoutingKey, DedupKey: a.DedupKey(), Client: "gantry"}
	if !a.Firing() {
		ev.EventAction = "resolve"
		return ev
	}
	sev := a.Labels["severity"]
	if !slices.Contains(pdSeverities, sev) {
		sev = p.Severity
	}
	details := map[string]any{"value": a.Value, "rule": a.Rule, "labels": a.Labels}
	for k, v := range a.Annotations {
		details[k] = v
	}
	ev.EventAction = "trigger"
	ev.Payload = &PagerDutyPayload{Summary: truncate(a.Title(), 1024), Source: source(a.Labels), Severity: sev,
		Timestamp: a.StartsAt.UTC().Format(time.RFC3339), Component: a.Labels["app"], Group: a.Labels["env"],
		Class: a.Name, CustomDetails: details}
	return ev
}

// pagerDutyEvent is a rollout event for PagerDuty: an incident (trigger,
// deduplicated per rollout) when it rolls back or fails, else a change event.
func pagerDutyEvent(p PagerDuty, e Event) (PagerDutyEvent, string) {
	payload := &PagerDutyPayload{Summary: truncate(e.Title(), 1024), Source: "gantry " + e.App + "/" + e.Env,
		Timestamp:     e.Time.UTC().Format(time.RFC3339),
		CustomDetails: map[string]any{"kind": string(e.Kind), "reason": string(e.Reason), "actor": e.Actor, "rollout": e.RolloutID, "message": e.Message}}
	if !e.Bad() {
		return PagerDutyEvent{RoutingKey: p.RoutingKey, Payload: payload}, changeURL(p.URL)
	}
	payload.Severity, payload.Component, payload.Group, payload.Class = "warning", e.App, e.Env, "rollout "+string(e.Kind)
	if e.Kind == Failed {
		payload.Severity = "error"
	}
	return PagerDutyEvent{RoutingKey: p.RoutingKey, EventAction: "trigger", Client: "gantry",
		DedupKey: fmt.Sprintf("gantry/rollout/%s/%s/%d", e.App, e.Env, e.RolloutID), Payload: payload}, p.URL
}

// changeURL is the change events endpoint next to an events endpoint.
func changeURL(events string) string {
	if base, ok := strings.CutSuffix(events, "/v2/enqueue"); ok {
		return base + "/v2/change/enqueue"
	}
	return events
}

func source(l map[string]string) string {
	if s := scope(l); s != "" {
		return "gantry " + s
	}
	return "gantry"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// WebhookBody is what a generic webhook receives.
type WebhookBody struct {
	// Kind is "alert" or "event"; SentAt when gantry first sent it
	// (receivers can reject old deliveries).
	Kind   string    `json:"kind"`
	SentAt time.Time `json:"sentAt"`
	Alert  *Alert    `json:"alert,omitempty"`
	Event  *Event    `json:"event,omitempty"`
}

// SignatureHeader carries a webhook body's signature: "sha256=" and the
// hex HMAC-SHA256 of the raw body keyed by the receiver's secret.
const SignatureHeader = "X-Gantry-Signature-256"

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify says whether signature is body's under secret (constant time).
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// AlertmanagerAlert is one alert of Alertmanager's v2 API (postableAlert).
type AlertmanagerAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertmanagerAlert is an alert for Alertmanager: a firing one ends at
// endsBy unless resent (as Prometheus does), a resolved one at its EndsAt.
func alertmanagerAlert(a Alert, endsBy time.Time) AlertmanagerAlert {
	l := make(map[string]string, len(a.Labels)+1)
	maps.Copy(l, a.Labels)
	l["alertname"] = a.Name
	out := AlertmanagerAlert{Labels: l, Annotations: a.Annotations, StartsAt: a.StartsAt, EndsAt: a.EndsAt}
	if a.Firing() {
		out.EndsAt = endsBy
	}
	return out
}
