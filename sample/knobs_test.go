package sample

import (
	"strings"
	"testing"
	"time"
)

func TestSplitVersion(t *testing.T) {
	tests := []struct {
		in      string
		version string
		want    Knobs
	}{
		{"v1", "v1", Knobs{}},
		{"v2+", "v2", Knobs{}},
		{"v2+errors=0.05,latency=200ms,crash-after=10s", "v2", Knobs{Errors: 0.05, Latency: 200 * time.Millisecond, CrashAfter: 10 * time.Second}},
		{"v3+latency-jitter=50ms", "v3", Knobs{LatencyJitter: 50 * time.Millisecond}},
		{"v3+crash-at-start", "v3", Knobs{CrashAtStart: true}},
		{"v3+never-ready,db-down", "v3", Knobs{NeverReady: true, DBDown: true}},
		{"v3+never-ready=false", "v3", Knobs{}},
		{"v3+slow-start=5s", "v3", Knobs{SlowStart: 5 * time.Second}},
		{"v3+mem-growth=20MiB/s", "v3", Knobs{MemGrowth: 20 << 20}},
		{"v3+mem-growth=1MB/s", "v3", Knobs{MemGrowth: 1000 * 1000}},
		{"v3+mem-growth=4096", "v3", Knobs{MemGrowth: 4096}},
		{"v3+cpu-burn=0.5", "v3", Knobs{CPUBurn: 0.5}},
		{"v3+invalid=0.5", "v3", Knobs{Invalid: 0.5}},
		{"v3+ errors = 1 , db-down ", "v3", Knobs{Errors: 1, DBDown: true}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			version, got, err := SplitVersion(tt.in)
			if err != nil {
				t.Fatalf("SplitVersion(%q): %v", tt.in, err)
			}
			if version != tt.version || got != tt.want {
				t.Errorf("SplitVersion(%q) = %q, %+v; want %q, %+v", tt.in, version, got, tt.version, tt.want)
			}
			again, err := ParseKnobs(got.String())
			if err != nil || again != got {
				t.Errorf("ParseKnobs(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseKnobs_Errors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the error
	}{
		{"errors=2", []string{"errors", "out of range", "fraction from 0 to 1"}},
		{"errors=lots", []string{"errors", "not a number"}},
		{"latency=200", []string{"latency", "not a duration", "200ms"}},
		{"latency=-1s", []string{"latency", "negative"}},
		{"crash-after=soon", []string{"crash-after", "duration"}},
		{"never-ready=maybe", []string{"never-ready", "true/false"}},
		{"mem-growth=fast", []string{"mem-growth", "20MiB"}},
		{"mem-growth=", []string{"mem-growth", "byte rate"}},
		{"cpu-burn=1.5", []string{"cpu-burn", "fraction of one core"}},
		{"explode", []string{`unknown knob "explode"`, "db-down"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseKnobs(tt.in)
			if err == nil {
				t.Fatalf("ParseKnobs(%q): no error", tt.in)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseKnobs(%q) error %q does not mention %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	t.Run("flags override version knobs", func(t *testing.T) {
		cfg, err := parseArgs([]string{"--port", "9000", "--version", "v2+errors=0.5,db-down", "--errors", "0.1", "--never-ready", "--instance", "a"}, &strings.Builder{})
		if err != nil {
			t.Fatal(err)
		}
		want := Config{Addr: "127.0.0.1", Port: 9000, Version: "v2", Instance: "a", Knobs: Knobs{Errors: 0.1, DBDown: true, NeverReady: true}}
		if cfg.Addr != want.Addr || cfg.Port != want.Port || cfg.Version != want.Version || cfg.Instance != want.Instance || cfg.Knobs != want.Knobs {
			t.Errorf("got %+v, want %+v", cfg, want)
		}
	})
	for _, args := range [][]string{
		{"--version", "v1"},
		{"--port", "9000", "--version", "v1+nope"},
		{"--port", "9000", "--latency", "x"},
		{"--port", "9000", "extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, err := parseArgs(args, &strings.Builder{}); err == nil {
				t.Errorf("parseArgs(%q): no error", args)
			}
		})
	}
}
