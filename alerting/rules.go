package alerting

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// ReceiverLabel is the rule label that names, comma-separated, the
// receivers an alert goes to; without it an alert goes to the default
// route's receivers.
const ReceiverLabel = "receiver"

// Rule is one alerting or recording rule of a rule file.
type Rule struct {
	// File and Line say where the rule is (Line of its alert or record key).
	File string `json:"file"`
	Line int    `json:"line"`
	// Group is the name of the rule's group.
	Group string `json:"group"`
	// Alert names an alerting rule; Record names a recording rule (one of
	// the two is set).
	Alert  string `json:"alert,omitempty"`
	Record string `json:"record,omitempty"`
	// Expr is the PromQL expression.
	Expr string `json:"expr"`
	// For is how long an alert stays pending before it fires; 0: it fires
	// at once. KeepFiringFor keeps it firing that long after the condition
	// clears; 0: it resolves at once.
	For           time.Duration `json:"for,omitempty"`
	KeepFiringFor time.Duration `json:"keepFiringFor,omitempty"`
	// Labels are added to the alert's (group labels, then the rule's);
	// Annotations are templates expanded per alert ($labels, $value).
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Where is "file:line".
func (r Rule) Where() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Name is the alert's or recording rule's name.
func (r Rule) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// Receivers are the receivers the rule's ReceiverLabel names; none: the default route.
func (r Rule) Receivers() []string { return splitNames(r.Labels[ReceiverLabel]) }

func splitNames(s string) []string {
	var out []string
	for n := range strings.SplitSeq(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// promqlParser parses rule expressions the way Prometheus does by default.
var promqlParser = parser.NewParser(parser.Options{})

// LoadRuleFiles parses and checks Prometheus rule files (the format of
// Prometheus's rule_files) and returns their rules in file order. Every
// problem of every file is returned, each with its file and line:
// YAML errors, unknown fields, PromQL syntax errors, bad templates, and
// receivers that known does not accept (known nil: any receiver). On any
// error no rule is returned.
func LoadRuleFiles(known func(receiver string) bool, paths ...string) ([]Rule, error) {
	var rules []Rule
	var errs []error
	for _, p := range paths {
		rs, err := loadRuleFile(known, p)
		errs = append(errs, err)
		rules = append(rules, rs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("alert rules: %w\n(the format is Prometheus's rule file: https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/)", err)
	}
	return rules, nil
}

func loadRuleFile(known func(string) bool, path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	return ParseRules(known, path, b)
}

// ParseRules parses one rule file's content, named file in errors; see LoadRuleFiles.
func ParseRules(known func(receiver string) bool, file string, content []byte) ([]Rule, error) {
	groups, perrs := rulefmt.Parse(content, false, model.UTF8Validation, promqlParser, promslog.NewNopLogger())
	if len(perrs) > 0 {
		var errs []error
		seen := map[string]bool{}
		for _, e := range perrs {
			if msg := e.Error(); !seen[msg] {
				seen[msg] = true
				sep := " "
				if msg != "" && msg[0] >= '0' && msg[0] <= '9' {
					sep = "" // rulefmt's errors start with line:column
				}
				errs = append(errs, fmt.Errorf("%s:%s%w", file, sep, e))
			}
		}
		return nil, errors.Join(errs...)
	}
	var nodes struct {
		Groups []struct {
			Rules []struct {
				Alert  yaml.Node `yaml:"alert"`
				Record yaml.Node `yaml:"record"`
				Labels yaml.Node `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(content, &nodes); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var rules []Rule
	var errs []error
	seen := map[string]string{}
	for gi, g := range groups.Groups {
		if where, dup := seen[g.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: group %q is defined twice (first at %s): give each group its own name", file, g.Name, where))
		}
		seen[g.Name] = file
		for ri, r := range g.Rules {
			n := nodes.Groups[gi].Rules[ri]
			line := n.Alert.Line
			if r.Record != "" {
				line = n.Record.Line
			}
			rule := Rule{File: file, Line: line, Group: g.Name, Alert: r.Alert, Record: r.Record, Expr: r.Expr,
				For: time.Duration(r.For), KeepFiringFor: time.Duration(r.KeepFiringFor),
				Labels: merge(g.Labels, r.Labels), Annotations: r.Annotations}
			for _, name := range rule.Receivers() {
				if known != nil && !known(name) {
					errs = append(errs, fmt.Errorf("%s:%d: rule %q: unknown receiver %q in label %s: define it under receivers in the notifications file, or remove the label",
						file, labelLine(n.Labels, line), rule.Name(), name, ReceiverLabel))
				}
			}
			rules = append(rules, rule)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

// labelLine is the line of the receiver label in a rule's labels mapping, else def.
func labelLine(labels yaml.Node, def int) int {
	for i := 0; i+1 < len(labels.Content); i += 2 {
		if labels.Content[i].Value == ReceiverLabel {
			return labels.Content[i].Line
		}
	}
	return def
}

func merge(a, b map[string]string) map[string]string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// AlertNames lists the alerting rules' names, sorted, each once.
func AlertNames(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		if r.Alert != "" && !slices.Contains(out, r.Alert) {
			out = append(out, r.Alert)
		}
	}
	slices.Sort(out)
	return out
}
