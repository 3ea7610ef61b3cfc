package dashboard_test

import (
	"context"
	"github.com/chromedp/chromedp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/rollout"
)

// pausedCanaryUnderLoad starts a server with web at v1, 100 requests/s
// through its proxy, and a canary of v2 paused at its second step.
func pausedCanaryUnderLoad(t *testing.T, ctx context.Context) (*testServer, rollout.Rollout) {
	t.Helper()
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	if _, err := s.c.Apply(ctx, "gantry.yaml", []byte(appSpec(t, ""))); err != nil {
		t.Fatal(err)
	}
	if r := s.deployWait(ctx, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1: %s %s", r.Phase, r.Message)
	}
	s.load(t, ctx)
	return s, s.deployPaused(ctx, "v2")
}

// liveCheck returns the check of trigger tr in a status's live analysis.
func liveCheck(la *rollout.LiveAnalysis, tr analysis.Trigger) (analysis.Check, bool) {
	if la == nil {
		return analysis.Check{}, false
	}
	for _, c := range la.Checks {
		if c.Trigger == tr {
			return c, true
		}
	}
	return analysis.Check{}, false
}

// TestStatus_LiveAnalysis: while a canary runs (paused at a step), the
// status API and the event stream carry its analysis as it stands: every
// check, and a sequential test whose counts grow between decisions.
func TestStatus_LiveAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts real instances")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	s, r := pausedCanaryUnderLoad(t, ctx)

	var seen []analysis.Check
	for len(seen) < 2 {
		st, err := s.c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if st.Rollout == nil || st.Rollout.ID != r.ID || st.Rollout.Phase != rollout.Paused {
			t.Fatalf("status shows %+v, want rollout %d paused", st.Rollout, r.ID)
		}
		if st.Analysis == nil {
			t.Fatalf("status of a paused canary has no live analysis: %+v", st)
		}
		if st.Analysis.Rollout != r.ID {
			t.Fatalf("live analysis of rollout %d, want %d", st.Analysis.Rollout, r.ID)
		}
		for tr := analysis.UnhealthyInstances; tr <= analysis.LatencyEvidence; tr++ {
			if _, ok := liveCheck(st.Analysis, tr); !ok {
				t.Fatalf("live analysis lacks check %s: %+v", tr, st.Analysis.Checks)
			}
		}
		c, _ := liveCheck(st.Analysis, analysis.ErrorEvidence)
		if c.Kind != analysis.Sequential || c.Unit != analysis.EValue || c.Threshold <= 1 || c.Canary == nil || c.Baseline == nil {
			t.Fatalf("ErrorEvidence = %+v, want a sequential test against 1/α with both groups' counts", c)
		}
		if len(seen) == 0 && c.Canary.Total > 0 || len(seen) == 1 && c.Canary.Total > seen[0].Canary.Total {
			seen = append(seen, c)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the canary's compared requests never grew: %+v", seen)
		case <-time.After(500 * time.Millisecond):
		}
	}
	if seen[1].Value < seen[0].Value {
		t.Errorf("ErrorEvidence's largest e-value fell from %g to %g", seen[0].Value, seen[1].Value)
	}

	ch := readSSE(ctx, t, s.url(), adminToken, "")
	snap := next(t, ch, "snapshot")
	if !strings.Contains(snap.data, `"analysis":{"rollout":`+strconv.FormatInt(r.ID, 10)) || !strings.Contains(snap.data, `"trigger":"ErrorEvidence"`) {
		t.Errorf("stream snapshot = %.400s, want the rollout's live analysis", snap.data)
	}
}

// shownCheck is one check's row of the page's live analysis table.
type shownCheck struct {
	At           string  `json:"at"`
	Text         string  `json:"text"`
	Value        float64 `json:"value"`
	EValue       float64 `json:"eValue"`
	CanaryTotal  uint64  `json:"canaryTotal"`
	CanaryEvents uint64  `json:"canaryEvents"`
	BaseTotal    uint64  `json:"baseTotal"`
}

// readShown reads trigger's row from the page; ok is false while the page
// shows none.
func readShown(t *testing.T, ctx context.Context, trigger string) (shownCheck, bool) {
	t.Helper()
	js := `(() => {
		const live = document.querySelector('.why .live');
		const tr = live && live.querySelector('tr[data-trigger="` + trigger + `"]');
		if (!tr) return null;
		return {at: live.dataset.at, text: tr.textContent, value: +tr.dataset.value, eValue: +tr.dataset.evalue,
			canaryTotal: +tr.dataset.canaryTotal, canaryEvents: +tr.dataset.canaryEvents, baseTotal: +tr.dataset.baselineTotal};
	})()`
	c := eval[*shownCheck](t, ctx, "read the live analysis", js)
	if c == nil {
		return shownCheck{}, false
	}
	return *c, true
}

// TestBrowser_LiveAnalysis: the page of a running canary (paused at a
// step) shows a sequential test's e-value and sample counts changing, as
// the status API reports them at the same observation.
func TestBrowser_LiveAnalysis(t *testing.T) {
	ctx := chrome(t)
	s, r := pausedCanaryUnderLoad(t, ctx)
	signInPage(t, ctx, s.url(), adminToken)
	run(t, ctx, "open the rollout", chromedp.Navigate(s.url()+"/#/env/web/prod"))
	waitJS(t, ctx, "the live analysis table", `document.querySelector('.why .live tr[data-trigger="ErrorEvidence"]') !== null`)

	// Each round reads the page, then the API; when both show the same
	// observation their numbers must agree. Rounds go on until two
	// matching observations show the counts and the e-value changing.
	var matched []shownCheck
	for len(matched) < 2 {
		shown, ok := readShown(t, ctx, "ErrorEvidence")
		if !ok {
			t.Fatal("the live analysis table went away while the canary is paused")
		}
		st, err := s.c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		c, ok := liveCheck(st.Analysis, analysis.ErrorEvidence)
		if !ok || st.Analysis.Rollout != r.ID {
			t.Fatalf("status API has no live ErrorEvidence of rollout %d: %+v", r.ID, st.Analysis)
		}
		at, _ := time.Parse(time.RFC3339Nano, shown.At)
		if at.Equal(st.Analysis.At) {
			if shown.Value != c.Value || shown.EValue != c.EValue || shown.CanaryTotal != c.Canary.Total ||
				shown.CanaryEvents != c.Canary.Events || shown.BaseTotal != c.Baseline.Total {
				t.Fatalf("page shows %+v, the API %+v at the same observation %s", shown, c, shown.At)
			}
			if !strings.Contains(shown.Text, "e-value") || !strings.Contains(shown.Text, "requests") {
				t.Fatalf("row reads %q, want the e-value and the counts in words", shown.Text)
			}
			if shown.CanaryTotal > 0 && (len(matched) == 0 || shown.CanaryTotal > matched[0].CanaryTotal && shown.Value != matched[0].Value) {
				matched = append(matched, shown)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("never saw two observations with changed counts and e-value on the page and in the API: %+v", matched)
		case <-time.After(300 * time.Millisecond):
		}
	}
	t.Logf("ErrorEvidence on the page: %+v then %+v", matched[0], matched[1])
	eval[any](t, ctx, "scroll to the analysis", `document.querySelector('.why').scrollIntoView()`)
	screenshot(t, ctx, "canary-live-analysis")
}
