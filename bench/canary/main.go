// Command canary runs canaries of the sample workload through a real
// gantry server and its proxy under steady load, and reports how the
// analysis judged them: healthy canaries that must survive, canaries with
// 5× the errors that the ErrorTest must roll back, and slow canaries the
// latency test must roll back. It prints one summary line per scenario
// and, per canary, the latencies the proxy measured for the canary and
// the stable revision. See bench/README.md; bench/canary.sh builds gantry
// and runs it, with or without a CPU hog.
//
//	go run ./bench/canary -gantry /path/to/gantry [-healthy 40 -errors 20 -slow 10]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// scenario is one kind of canary and what must happen to it.
type scenario struct {
	name string
	app  string
	// knobs are the canary's sample knobs; the stable revision's are the app's.
	knobs string
	// want is the trigger that must roll it back; "": it must survive.
	want  string
	count int
}

// outcome is one canary's fate.
type outcome struct {
	rolledBack bool
	reason     string
	after      time.Duration // from the canary's first ready instance to the rollback
	canary     api.RevisionTraffic
	stable     api.RevisionTraffic
	// baseline is the like-for-like baseline's traffic; zero with
	// analysis.baseline: primary.
	baseline api.RevisionTraffic
}

var specTemplate = template.Must(template.New("spec").Parse(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: {{.App}}}
spec:
  replicas: {{.Replicas}}
  workload:
    command: {{.Gantry}}
    args: ["sample", "--port", "{{"{{.Port}}"}}", "--version", "{{"{{.Version}}"}}", "--instance", "{{"{{.Instance}}"}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  livenessProbe: {httpGet: {path: /health}, periodSeconds: 1, failureThreshold: 3}
  progressDeadlineSeconds: 600
  terminationGracePeriodSeconds: 5
{{.Analysis}}  strategy:
    type: {{.Strategy}}
{{- if eq .Strategy "Canary"}}
    canary:
      steps:
        - setWeight: {{.Weight}}
        - pause: {}
{{- end}}
environments:
  - name: bench
    proxy: {listen: "127.0.0.1:0"}
`))

func main() {
	gantry := flag.String("gantry", "", "the gantry binary that runs the sample workload (required)")
	rate := flag.Int("rate", 1000, "requests per second through the proxy")
	weight := flag.Int("weight", 5, "the canary's traffic share, percent")
	replicas := flag.Int("replicas", 2, "instances of the stable revision")
	observe := flag.Duration("observe", 60*time.Second, "how long each canary is watched")
	healthy := flag.Int("healthy", 40, "healthy canaries")
	errs := flag.Int("errors", 20, "canaries with 5× the stable revision's errors")
	slow := flag.Int("slow", 10, "canaries 50% slower than the stable revision")
	baseErr := flag.Float64("base-errors", 0.001, "the stable revision's error rate (errors knob)")
	baseLatency := flag.Duration("slow-base-latency", 50*time.Millisecond, "the stable revision's added latency in the slow scenario; the slow canary adds 50% more")
	analysis := flag.String("analysis", "", `extra spec.analysis fields as YAML flow, such as "latencyMarginMs: 0, latencyMarginPercent: 0"`)
	baseline := flag.String("baseline", "likeForLike", "spec.analysis.baseline: likeForLike (fresh stable instances beside the canary) or primary")
	flag.Parse()
	if *baseline != "" {
		*analysis = strings.TrimPrefix(*analysis+", baseline: "+*baseline, ", ")
	}
	if *gantry == "" {
		fmt.Fprintln(os.Stderr, "canary: -gantry is required: the path of a gantry binary (go build -o /tmp/gantry ./cmd/gantry)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	slowKnob := func(d time.Duration) string { return fmt.Sprintf("errors=%g,latency=%s", *baseErr, d) }
	scenarios := []scenario{
		{name: "healthy", app: "web", knobs: fmt.Sprintf("errors=%g", *baseErr), count: *healthy},
		{name: "5× errors", app: "web", knobs: fmt.Sprintf("errors=%g", 5**baseErr), want: "ErrorTest", count: *errs},
		{name: "+50% latency", app: "slow", knobs: slowKnob(*baseLatency * 3 / 2), want: "LatencyTest", count: *slow},
	}
	stable := map[string]string{"web": fmt.Sprintf("errors=%g", *baseErr), "slow": slowKnob(*baseLatency)}
	b := &bench{gantry: *gantry, rate: *rate, weight: *weight, replicas: *replicas, observe: *observe, stable: stable, analysis: *analysis,
		likeForLike: *baseline != "primary"}
	if err := b.run(ctx, scenarios); err != nil {
		fmt.Fprintln(os.Stderr, "canary:", err)
		os.Exit(1)
	}
}

type bench struct {
	gantry                 string
	rate, weight, replicas int
	observe                time.Duration
	stable                 map[string]string
	analysis               string
	likeForLike            bool // a like-for-like baseline runs beside each canary
	c                      *client.Client
	srv                    *server.Server
	version                int
}

func (b *bench) run(ctx context.Context, scenarios []scenario) error {
	dir, err := os.MkdirTemp("", "gantry-bench-canary-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	token := auth.NewSecret()
	b.srv, err = server.New(ctx, server.Options{DataDir: dir, APIAddr: "127.0.0.1:0", StopInstancesOnExit: true,
		Interval: 200 * time.Millisecond, RestartBackoff: 300 * time.Millisecond, Token: token})
	if err != nil {
		return err
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- b.srv.Run(srvCtx) }()
	defer func() {
		stopServer()
		<-srvDone
	}()
	if b.c, err = client.New(client.Options{Server: b.srv.APIURL(), Actor: "bench", Token: token}); err != nil {
		return err
	}
	fmt.Printf("gantry server, sample workload (%d stable instances), %d requests/s through the proxy, canary at %d%%, each watched %s\n",
		b.replicas, b.rate, b.weight, b.observe)
	if b.analysis != "" {
		fmt.Printf("spec.analysis: {%s}\n", b.analysis)
	}
	for _, app := range []string{"web", "slow"} {
		if err := b.setUp(ctx, app); err != nil {
			return err
		}
	}
	var summaries []string
	for _, sc := range scenarios {
		if sc.count == 0 {
			continue
		}
		outs, err := b.scenario(ctx, sc)
		if err != nil {
			return err
		}
		summaries = append(summaries, summary(sc, outs)+fmt.Sprintf(" [load %s]", loadAverage()))
	}
	fmt.Println()
	for _, s := range summaries {
		fmt.Println(s)
	}
	fmt.Printf("load average at the end: %s on %d cores\n", loadAverage(), runtime.NumCPU())
	return nil
}

// apply applies app's spec with strategy.
func (b *bench) apply(ctx context.Context, app, strategy string) error {
	var spec strings.Builder
	analysis := ""
	if b.analysis != "" {
		analysis = "  analysis: {" + b.analysis + "}\n"
	}
	if err := specTemplate.Execute(&spec, map[string]any{"App": app, "Replicas": b.replicas, "Gantry": b.gantry,
		"Strategy": strategy, "Weight": b.weight, "Analysis": analysis}); err != nil {
		return err
	}
	_, err := b.c.Apply(ctx, app+".yaml", []byte(spec.String()))
	return err
}

// setUp deploys app's stable revision with a rolling update, then switches
// its spec to the canary strategy.
func (b *bench) setUp(ctx context.Context, app string) error {
	if err := b.apply(ctx, app, "RollingUpdate"); err != nil {
		return fmt.Errorf("apply %s: %w", app, err)
	}
	r, err := b.c.Deploy(ctx, app, "bench", "v1+"+b.stable[app])
	if err != nil {
		return fmt.Errorf("deploy %s: %w", app, err)
	}
	if r, err = b.c.WaitRollout(ctx, r.ID, 200*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		return fmt.Errorf("deploy %s: %s %s %v", app, r.Phase, r.Message, err)
	}
	return b.apply(ctx, app, "Canary")
}

func (b *bench) scenario(ctx context.Context, sc scenario) ([]outcome, error) {
	loadCtx, stopLoad := context.WithCancel(ctx)
	load := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + b.srv.ProxyAddr(sc.app, "bench") + "/", Rate: b.rate, Workers: 32})
	defer func() {
		stopLoad()
		load.Wait()
	}()
	if err := sleep(ctx, 3*time.Second); err != nil {
		return nil, err
	}
	var outs []outcome
	for i := range sc.count {
		o, err := b.canary(ctx, sc)
		if err != nil {
			return outs, fmt.Errorf("%s canary %d: %w", sc.name, i+1, err)
		}
		outs = append(outs, o)
		verdict := "survived"
		if o.rolledBack {
			verdict = fmt.Sprintf("rolled back by %s after %s", o.reason, o.after.Round(100*time.Millisecond))
		}
		base := ""
		if o.baseline.Requests > 0 {
			base = fmt.Sprintf("; baseline %d req p50/p95/p99 %.2f/%.2f/%.2f ms", o.baseline.Requests, o.baseline.P50, o.baseline.P95, o.baseline.P99)
		}
		fmt.Printf("%-13s %2d/%d: %-40s canary %6d req p50/p95/p99 %.2f/%.2f/%.2f ms; stable p50/p95/p99 %.2f/%.2f/%.2f ms%s [load %s]\n",
			sc.name, i+1, sc.count, verdict, o.canary.Requests, o.canary.P50, o.canary.P95, o.canary.P99, o.stable.P50, o.stable.P95, o.stable.P99, base, loadAverage())
	}
	return outs, nil
}

// canary deploys one canary, watches it for b.observe (a bad one three
// times as long), and aborts it if it is still running then.
func (b *bench) canary(ctx context.Context, sc scenario) (outcome, error) {
	b.version++
	version := fmt.Sprintf("v%d+%s", b.version+1, sc.knobs)
	r, err := b.c.Deploy(ctx, sc.app, "bench", version)
	if err != nil {
		return outcome{}, err
	}
	// The watch starts when the canary takes traffic. A bad canary is
	// watched three times as long, to measure when it is caught.
	watch := b.observe
	if sc.want != "" {
		watch *= 3
	}
	var readyAt time.Time
	var polls, warming int // status polls after ready, and those in a warm-up
	deadline := time.Now().Add(watch + 30*time.Second)
	for readyAt.IsZero() || time.Since(readyAt) < watch {
		if time.Now().After(deadline) {
			break
		}
		if r, err = b.c.Rollout(ctx, r.ID); err != nil {
			return outcome{}, err
		}
		if r.Phase.Final() || r.Phase == rollout.RollingBack {
			break
		}
		if readyAt.IsZero() {
			readyAt = b.trafficSince(sc.app, r)
		} else {
			polls++
			if strings.Contains(r.Message, "WarmUp:") {
				warming++
			}
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return outcome{}, err
		}
	}
	o := outcome{}
	if st, err := b.c.Status(ctx, sc.app, "bench"); err == nil {
		for _, rev := range st.Revisions {
			switch {
			case rev.Number == r.ToRevision:
				o.canary = rev.Traffic
			case rev.Number == r.FromRevision && rev.Group == rollout.GroupBaseline:
				o.baseline = rev.Traffic
			case rev.Number == r.FromRevision:
				o.stable = rev.Traffic
			}
		}
	}
	if !r.Phase.Final() && r.Phase != rollout.RollingBack {
		if sc.want != "" {
			fmt.Printf("    not rolled back (warming up in %d of %d polls after ready); status: %s\n", warming, polls, r.Message)
		}
		if _, err := b.c.Command(ctx, sc.app, "bench", "abort", api.CommandBody{}); err != nil {
			return o, fmt.Errorf("abort: %w", err)
		}
	}
	if r, err = b.c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil {
		return o, err
	}
	if r.Phase == rollout.RolledBack {
		o.rolledBack, o.reason = true, string(r.Reason)
		if !readyAt.IsZero() {
			o.after = r.UpdatedAt.Sub(readyAt)
			if !r.FinishedAt.IsZero() {
				o.after = rollbackStart(ctx, b.c, sc.app, r, readyAt)
			}
		}
		if o.reason != sc.want || sc.want == "LatencyTest" {
			// Which quantile caught a slow canary, or what caught another.
			fmt.Printf("    %s: %s\n", r.Reason, r.Message)
		}
	}
	// Let the canary's instances go before the next one.
	return o, sleep(ctx, 2*time.Second)
}

// trafficSince is when r's canary began taking traffic: when its first
// instance became ready and, with a like-for-like baseline, its baseline's
// too (the split waits for both); zero before.
func (b *bench) trafficSince(app string, r rollout.Rollout) time.Time {
	var canary, base time.Time
	for _, in := range b.srv.Instances(app, "bench") {
		switch {
		case in.Revision == r.ToRevision && in.Ready:
			canary = in.ReadySince
		case in.Revision == r.FromRevision && in.Group == rollout.GroupBaseline && in.Ready:
			base = in.ReadySince
		}
	}
	if canary.IsZero() || (b.likeForLike && base.IsZero()) {
		return time.Time{}
	}
	if base.After(canary) {
		return base
	}
	return canary
}

// rollbackStart is the time from readyAt to the event that began r's
// rollback.
func rollbackStart(ctx context.Context, c *client.Client, app string, r rollout.Rollout, readyAt time.Time) time.Duration {
	evs, err := c.Events(ctx, app, "bench", 0, r.ID)
	if err != nil {
		return r.FinishedAt.Sub(readyAt)
	}
	for _, ev := range evs {
		if ev.Reason == r.Reason {
			return ev.Time.Sub(readyAt)
		}
	}
	return r.FinishedAt.Sub(readyAt)
}

// summary is one line: how many canaries ended as they should, and the
// detection times.
func summary(sc scenario, outs []outcome) string {
	var right, wrongReason, survived int
	var times []time.Duration
	reasons := map[string]int{}
	for _, o := range outs {
		switch {
		case !o.rolledBack:
			survived++
		case o.reason == sc.want:
			right++
			times = append(times, o.after)
		default:
			wrongReason++
		}
		if o.rolledBack {
			reasons[o.reason]++
		}
	}
	if sc.want == "" {
		return fmt.Sprintf("%-13s %d canaries: %d survived %s, %d rolled back %v  [target: none rolled back: %s]",
			sc.name, len(outs), survived, "", len(outs)-survived, reasons, pass(survived == len(outs)))
	}
	slices.Sort(times)
	med := "-"
	if len(times) > 0 {
		med = times[len(times)/2].Round(100 * time.Millisecond).String()
	}
	line := fmt.Sprintf("%-13s %d canaries: %d rolled back by %s (median %s after ready), %d by another trigger %v, %d survived",
		sc.name, len(outs), right, sc.want, med, wrongReason, reasons, survived)
	ok := right == len(outs)
	if sc.want == "ErrorTest" && len(times) > 0 {
		ok = ok && times[len(times)/2] <= 60*time.Second
	}
	return line + fmt.Sprintf("  [target: every one by %s: %s]", sc.want, pass(ok))
}

// loadAverage is the machine's 1-minute load average, from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errors.Join(ctx.Err())
	case <-t.C:
		return nil
	}
}
