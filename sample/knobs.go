package sample

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Knobs select the failures the sample workload fakes. The zero value is a
// healthy service.
type Knobs struct {
	// Errors is the share of requests to / and other plain paths answered
	// with 500, from 0 to 1.
	Errors float64
	// Latency is added to each plain request; LatencyJitter adds a further
	// uniformly random delay in [0, LatencyJitter).
	Latency       time.Duration
	LatencyJitter time.Duration
	// CrashAtStart exits with status 1 right away.
	CrashAtStart bool
	// CrashAfter exits with status 1 this long after start; 0: never.
	CrashAfter time.Duration
	// NeverReady keeps /ready at 503.
	NeverReady bool
	// SlowStart keeps /ready at 503 for this long after start; 0: ready at once.
	SlowStart time.Duration
	// UnreadyAfter turns /ready to 503 this long after start, while the
	// process keeps running and serving; 0: never.
	UnreadyAfter time.Duration
	// MemGrowth allocates and touches this many bytes per second; 0: none.
	MemGrowth int64
	// CPUBurn keeps this fraction of one core busy, from 0 to 1; 0: none.
	CPUBurn float64
	// DBDown makes the database unreachable: /health warns, /db fails.
	DBDown bool
	// Invalid is the share of the validations of requests to / and other
	// plain paths that fail (validations_total{result="failed"} on
	// /metrics), from 0 to 1, while the requests are still answered 200:
	// a business regression only the business counter shows.
	Invalid float64
}

// knob describes one knob: its name, accepted form, and how it is set.
type knob struct {
	name string
	form string
	set  func(k *Knobs, v string) error
}

// knobList is every knob, in the order String writes them.
var knobList = []knob{
	{"errors", "a fraction from 0 to 1, such as errors=0.05", func(k *Knobs, v string) error {
		f, err := parseFraction(v)
		k.Errors = f
		return err
	}},
	{"latency", "a duration such as latency=200ms", func(k *Knobs, v string) error {
		d, err := parseDuration(v)
		k.Latency = d
		return err
	}},
	{"latency-jitter", "a duration such as latency-jitter=50ms", func(k *Knobs, v string) error {
		d, err := parseDuration(v)
		k.LatencyJitter = d
		return err
	}},
	{"crash-at-start", "no value, or true/false", func(k *Knobs, v string) error {
		b, err := parseFlag(v)
		k.CrashAtStart = b
		return err
	}},
	{"crash-after", "a duration such as crash-after=10s", func(k *Knobs, v string) error {
		d, err := parseDuration(v)
		k.CrashAfter = d
		return err
	}},
	{"never-ready", "no value, or true/false", func(k *Knobs, v string) error {
		b, err := parseFlag(v)
		k.NeverReady = b
		return err
	}},
	{"slow-start", "a duration such as slow-start=5s", func(k *Knobs, v string) error {
		d, err := parseDuration(v)
		k.SlowStart = d
		return err
	}},
	{"unready-after", "a duration such as unready-after=10s", func(k *Knobs, v string) error {
		d, err := parseDuration(v)
		k.UnreadyAfter = d
		return err
	}},
	{"mem-growth", "bytes per second such as mem-growth=20MiB", func(k *Knobs, v string) error {
		n, err := parseRate(v)
		k.MemGrowth = n
		return err
	}},
	{"cpu-burn", "a fraction of one core from 0 to 1, such as cpu-burn=0.5", func(k *Knobs, v string) error {
		f, err := parseFraction(v)
		k.CPUBurn = f
		return err
	}},
	{"db-down", "no value, or true/false", func(k *Knobs, v string) error {
		b, err := parseFlag(v)
		k.DBDown = b
		return err
	}},
	{"invalid", "a fraction from 0 to 1, such as invalid=0.5", func(k *Knobs, v string) error {
		f, err := parseFraction(v)
		k.Invalid = f
		return err
	}},
}

// Set sets the knob called name from its textual value; a boolean knob
// accepts an empty value as true. The error names the knob and the form it
// accepts.
func (k *Knobs) Set(name, value string) error {
	for _, kn := range knobList {
		if kn.name != name {
			continue
		}
		if err := kn.set(k, strings.TrimSpace(value)); err != nil {
			return fmt.Errorf("knob %s=%q: %w; want %s", name, value, err, kn.form)
		}
		return nil
	}
	return fmt.Errorf("unknown knob %q; known knobs: %s", name, knobNames())
}

// ParseKnobs reads a comma-separated list such as
// "errors=0.05,latency=200ms,db-down". Empty: no knobs.
func ParseKnobs(s string) (Knobs, error) {
	var k Knobs
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, _ := strings.Cut(item, "=")
		if err := k.Set(strings.TrimSpace(name), value); err != nil {
			return Knobs{}, err
		}
	}
	return k, nil
}

// SplitVersion splits a version such as "v2+errors=0.05,db-down" into the
// version proper ("v2") and its knobs. A version without '+' has no knobs.
func SplitVersion(v string) (version string, k Knobs, err error) {
	version, knobs, ok := strings.Cut(v, "+")
	if !ok {
		return v, Knobs{}, nil
	}
	k, err = ParseKnobs(knobs)
	if err != nil {
		return "", Knobs{}, fmt.Errorf("version %q: %w", v, err)
	}
	return version, k, nil
}

// String writes the knobs that differ from zero in ParseKnobs' form.
func (k Knobs) String() string {
	var parts []string
	add := func(name string, set bool, value string) {
		if !set {
			return
		}
		if value == "" {
			parts = append(parts, name)
			return
		}
		parts = append(parts, name+"="+value)
	}
	add("errors", k.Errors != 0, strconv.FormatFloat(k.Errors, 'g', -1, 64))
	add("latency", k.Latency != 0, k.Latency.String())
	add("latency-jitter", k.LatencyJitter != 0, k.LatencyJitter.String())
	add("crash-at-start", k.CrashAtStart, "")
	add("crash-after", k.CrashAfter != 0, k.CrashAfter.String())
	add("never-ready", k.NeverReady, "")
	add("slow-start", k.SlowStart != 0, k.SlowStart.String())
	add("unready-after", k.UnreadyAfter != 0, k.UnreadyAfter.String())
	add("mem-growth", k.MemGrowth != 0, strconv.FormatInt(k.MemGrowth, 10)+"B/s")
	add("cpu-burn", k.CPUBurn != 0, strconv.FormatFloat(k.CPUBurn, 'g', -1, 64))
	add("db-down", k.DBDown, "")
	add("invalid", k.Invalid != 0, strconv.FormatFloat(k.Invalid, 'g', -1, 64))
	return strings.Join(parts, ",")
}

func knobNames() string {
	names := make([]string, len(knobList))
	for i, kn := range knobList {
		names[i] = kn.name
	}
	return strings.Join(names, ", ")
}

func parseFraction(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("out of range")
	}
	return f, nil
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("not a duration")
	}
	if d < 0 {
		return 0, fmt.Errorf("negative")
	}
	return d, nil
}

func parseFlag(v string) (bool, error) {
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("not a boolean")
	}
	return b, nil
}

// parseRate reads "20MiB/s", "1MB/s" or "1048576" (bytes per second).
func parseRate(v string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSuffix(v, "/s"))
	if err != nil || v == "" {
		return 0, fmt.Errorf("not a byte rate")
	}
	if n > 1<<40 {
		return 0, fmt.Errorf("out of range")
	}
	return int64(n), nil
}
