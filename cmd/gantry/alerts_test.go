package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// TestCLI_AlertsListHistory: `gantry alerts list` ends with what the
// alerting history keeps and refuses, read from a real server whose rule
// reads more series than --alert-history-max-series allows; -o json
// carries the same under "history".
func TestCLI_AlertsListHistory(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yml")
	os.WriteFile(rules, []byte(`groups:
- name: test
  rules:
  - alert: ManySeries
    expr: count({__name__=~"gantry_.+"}) > 1000000
`), 0o644)
	env, _ := startServer(t, "--alert-rules", rules, "--alert-interval", "1s", "--alert-history-max-series", "3")

	var res api.Alerts
	deadline := time.Now().Add(time.Minute)
	for res.History == nil || !res.History.Full || res.History.DroppedSamples == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the history did not reach its cap of 3 series within a minute: %+v", res.History)
		}
		time.Sleep(200 * time.Millisecond)
		res = api.Alerts{}
		if err := json.Unmarshal([]byte(mustRun(t, env, "alerts", "list", "-o", "json")), &res); err != nil {
			t.Fatal(err)
		}
	}
	if h := res.History; h.Series != 3 || h.MaxSeries != 3 || h.Samples < 3 || h.Bytes <= 0 || h.FullSince.IsZero() {
		t.Errorf("-o json history at its cap: %+v; want 3 of 3 series, their samples and bytes, and since when it is full", h)
	}
	for _, args := range [][]string{{"alerts", "list"}, {"alerts", "list", "--rules"}} {
		out := mustRun(t, env, args...)
		if !regexpMatch(`history: 3/3 series \(--alert-history-max-series\), \d+ samples, about [\d.]+ (B|KiB); samples refused at the cap: [1-9]\d*;`, out) ||
			!strings.Contains(out, "history: FULL for ") {
			t.Errorf("%s: no history footer at the cap:\n%s", strings.Join(args, " "), out)
		}
	}
}
