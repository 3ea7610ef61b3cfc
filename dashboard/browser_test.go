package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// Browser tests drive Debian's chromium (apt-get install -y chromium;
// .ci/run installs it) headless at 1280×800. They skip, saying why, only
// when no browser can start. Chromium on a shared machine is slow: every
// wait is bounded by the test's context, never by a timed assertion.

// chrome starts a headless browser for the test; it skips the test when
// none can start.
func chrome(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: browser tests start chromium and real instances")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-dev-shm-usage", true))
	if p := os.Getenv("GANTRY_CHROME"); p != "" {
		opts = append(opts, chromedp.ExecPath(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Skipf("no browser could start (%v): install chromium (apt-get install -y chromium) or set GANTRY_CHROME to a Chrome binary", err)
	}
	return bctx
}

// run runs actions, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and returns its value.
func eval[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it holds or ctx ends.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(4*time.Minute), chromedp.WithPollingInterval(250*time.Millisecond))); err != nil {
		t.Fatalf("wait for %s: %v", what, err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// signInPage signs in through the form.
func signInPage(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("form.signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table.overview")))
}

// screenshot writes the page at 1280×800 to the screenshot folder:
// $GANTRY_SCREENSHOTS, or gantry-dashboard-screenshots in the temp dir.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GANTRY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gantry-dashboard-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// deployWait deploys version and waits for the rollout to end.
func (s *testServer) deployWait(ctx context.Context, version string) rollout.Rollout {
	s.t.Helper()
	r, err := s.c.Deploy(ctx, "web", "prod", version)
	if err != nil {
		s.t.Fatal(err)
	}
	if r, err = s.c.WaitRollout(ctx, r.ID, 250*time.Millisecond, nil); err != nil {
		s.t.Fatal(err)
	}
	return r
}

// deployPaused deploys version and waits for its canary to pause.
func (s *testServer) deployPaused(ctx context.Context, version string) rollout.Rollout {
	s.t.Helper()
	r, err := s.c.Deploy(ctx, "web", "prod", version)
	if err != nil {
		s.t.Fatal(err)
	}
	for r.Phase != rollout.Paused {
		if r.Phase.Final() {
			s.t.Fatalf("canary ended %s before its pause: %s", r.Phase, r.Message)
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("canary never paused: %s", r.Message)
		case <-time.After(250 * time.Millisecond):
		}
		if r, err = s.c.Rollout(ctx, r.ID); err != nil {
			s.t.Fatal(err)
		}
	}
	return r
}

// load sends requests to web's proxy until the test ends.
func (s *testServer) load(t *testing.T, ctx context.Context) {
	lctx, cancel := context.WithCancel(ctx)
	l := loadgen.Start(lctx, loadgen.Options{URL: "http://" + s.srv.ProxyAddr("web", "prod") + "/", Rate: 100, Workers: 8})
	t.Cleanup(func() { cancel(); l.Wait() })
}

// TestBrowser_CanaryRolledBackLive: a signed-in page watches a canary
// that fails a share of its requests progress and be rolled back, live,
// with the reason and its numbers shown as the API reports them.
func TestBrowser_CanaryRolledBackLive(t *testing.T) {
	ctx := chrome(t)
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	if _, err := s.c.Apply(ctx, "gantry.yaml", []byte(appSpec(t, "duration: 10m"))); err != nil {
		t.Fatal(err)
	}
	if r := s.deployWait(ctx, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1: %s %s", r.Phase, r.Message)
	}
	s.load(t, ctx)
	signInPage(t, ctx, s.url(), adminToken)
	waitJS(t, ctx, "the overview to show web's traffic",
		`[...document.querySelectorAll('table.overview tbody tr')].some(r => r.textContent.includes('web') && r.textContent.includes('r1 100%') && parseFloat(r.cells[8].textContent) > 0)`)
	screenshot(t, ctx, "overview")

	r, err := s.c.Deploy(ctx, "web", "prod", "v2+errors=0.08")
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "open the rollout", chromedp.Navigate(s.url()+"/#/env/web/prod"))
	waitJS(t, ctx, "the canary in progress with its current step",
		`document.querySelector('.head .badge')?.textContent.match(/Progressing|Paused/) && document.querySelector('.steps li.current') && document.querySelectorAll('.charts canvas').length >= 4`)
	screenshot(t, ctx, "canary-live")

	waitJS(t, ctx, "the rollback's reason", `document.querySelector('.why .reason.bad') !== null && document.querySelector('.head .badge')?.textContent === 'RolledBack'`)
	final, err := s.c.Rollout(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != rollout.RolledBack {
		t.Fatalf("rollout %d = %s, want RolledBack", r.ID, final.Phase)
	}
	shown := text(t, ctx, ".why .reason.bad")
	if !strings.HasPrefix(shown, string(final.Reason)+":") || !strings.Contains(shown, final.Message) {
		t.Errorf("page says %q, want the API's reason %s: %s", shown, final.Reason, final.Message)
	}
	if final.Details != nil && len(final.Details.Analysis) > 0 {
		fired := text(t, ctx, ".why table.analysis tbody")
		for _, a := range final.Details.Analysis {
			if !strings.Contains(fired, a.Trigger.String()) {
				t.Errorf("analysis table %q lacks trigger %s (%g vs %g)", fired, a.Trigger, a.Observed, a.Threshold)
			}
		}
	}
	eval[any](t, ctx, "scroll to the top", `window.scrollTo(0, 0)`)
	screenshot(t, ctx, "canary-rolled-back")
}

// TestBrowser_PromoteAndViewer: a viewer's page of a paused canary shows
// no action buttons and its forged calls get 403; a deployer promotes the
// canary from the page, through the API and into the audit log.
func TestBrowser_PromoteAndViewer(t *testing.T) {
	ctx := chrome(t)
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	if _, err := s.c.Apply(ctx, "gantry.yaml", []byte(appSpec(t, ""))); err != nil {
		t.Fatal(err)
	}
	if r := s.deployWait(ctx, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1: %s %s", r.Phase, r.Message)
	}
	r := s.deployPaused(ctx, "v2")

	t.Run("viewer", func(t *testing.T) {
		viewer := s.token("watcher", auth.Viewer, "prod")
		// A second browser profile: the viewer's cookies are its own.
		vctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		run(t, vctx, "viewport", chromedp.EmulateViewport(1280, 800))
		signInPage(t, vctx, s.url(), viewer)
		run(t, vctx, "open the rollout", chromedp.Navigate(s.url()+"/#/env/web/prod"))
		waitJS(t, vctx, "the paused canary", `document.querySelector('.head .badge')?.textContent === 'Paused' && document.querySelector('.actions p') !== null`)
		buttons := eval[int](t, vctx, "count buttons", `document.querySelectorAll('.actions button').length`)
		if buttons != 0 {
			t.Errorf("viewer sees %d action buttons, want none", buttons)
		}
		forge := `(async () => {
			const s = await (await fetch('/dashboard/session')).json();
			const out = [];
			for (const c of ['promote', 'pause', 'abort', 'undo']) {
				const r = await fetch('/api/v1/apps/web/environments/prod/' + c, {method: 'POST', headers: {'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json'}, body: '{}'});
				out.push(r.status);
			}
			return out;
		})()`
		statuses := eval[[]int](t, vctx, "forge calls", forge)
		for i, st := range statuses {
			if st != 403 {
				t.Errorf("viewer's forged call %d = %d, want 403", i, st)
			}
		}
		if len(statuses) != 4 {
			t.Errorf("forged calls answered %v", statuses)
		}
	})

	t.Run("promote", func(t *testing.T) {
		signInPage(t, ctx, s.url(), adminToken)
		run(t, ctx, "open the rollout", chromedp.Navigate(s.url()+"/#/env/web/prod"))
		waitJS(t, ctx, "the promote button", `[...document.querySelectorAll('.actions button')].some(b => b.textContent === 'Promote step')`)
		eval[any](t, ctx, "click promote", `[...document.querySelectorAll('.actions button')].find(b => b.textContent === 'Promote step').click()`)
		run(t, ctx, "confirm the promotion",
			chromedp.WaitVisible(chromedp.CSS("#confirm")),
			chromedp.SendKeys(chromedp.CSS("#confirm-reason"), "looks good on the dashboard"),
			chromedp.Click(chromedp.CSS("#confirm-ok")))
		final, err := s.c.WaitRollout(ctx, r.ID, 250*time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		if final.Phase != rollout.Succeeded {
			t.Fatalf("after promote: %s %s", final.Phase, final.Message)
		}
		evs, err := s.c.Events(ctx, "web", "prod", 0, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		promoted := false
		for _, ev := range evs {
			promoted = promoted || (ev.Reason == rollout.ReasonPromoted && ev.Actor == "local" && strings.Contains(fmt.Sprint(ev.Details), "looks good"))
		}
		if !promoted {
			t.Errorf("no Promoted event by token local with the page's reason: %+v", evs)
		}
		waitJS(t, ctx, "the page to show it succeeded", `document.querySelector('.head .badge')?.textContent === 'Succeeded'`)
	})
}

// TestBrowser_SurvivesRestart: the page of a signed-in browser stays
// correct across a server restart: its stream reconnects, its session
// holds, and it shows what happened after.
func TestBrowser_SurvivesRestart(t *testing.T) {
	ctx := chrome(t)
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	if _, err := s.c.Apply(ctx, "gantry.yaml", []byte(appSpec(t, "duration: 1s"))); err != nil {
		t.Fatal(err)
	}
	if r := s.deployWait(ctx, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1: %s %s", r.Phase, r.Message)
	}
	signInPage(t, ctx, s.url(), adminToken)
	run(t, ctx, "open the rollout", chromedp.Navigate(s.url()+"/#/env/web/prod"))
	waitJS(t, ctx, "the stream", `document.getElementById('conn').textContent === 'live' && document.querySelector('.head .badge')?.textContent === 'Succeeded'`)

	s.stop()
	waitJS(t, ctx, "the page to see the server gone", `document.getElementById('conn').textContent !== 'live'`)
	s = startServer(t, s.dir, s.addr)
	s.load(t, ctx) // a canary is promoted on evidence, which needs traffic
	r := s.deployWait(ctx, "v2")
	if r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v2: %s %s", r.Phase, r.Message)
	}
	waitJS(t, ctx, "the page to show v2 after the restart",
		`document.getElementById('conn').textContent === 'live' && document.querySelector('.head')?.textContent.includes('Rollout `+fmt.Sprint(r.ID)+`') && document.querySelector('.head .badge')?.textContent === 'Succeeded'`)
	waitJS(t, ctx, "v2's events, caught up", `[...document.querySelectorAll('.events li')].some(li => li.textContent.includes('RolloutCreated') && li.textContent.includes('deploy v2'))`)
	signIn := eval[bool](t, ctx, "check the session", `document.getElementById('token') !== null`)
	if signIn {
		t.Error("the page asks to sign in again after a restart")
	}
}
