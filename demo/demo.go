// Package demo runs gantry's guided demo: a gantry server on the embedded
// defaults in a temporary directory, the bundled sample service behind
// gantry's proxy under steady traffic, a good rolling update, and a bad
// version that gantry rolls back by itself. Everything it starts it stops.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// Options configure a demo run.
type Options struct {
	// Executable is the gantry binary that runs the sample workload
	// (`gantry sample`); empty: this process's own executable.
	Executable string
	// Out receives the narration, no line wider than Width; nil: os.Stdout.
	// When Out is a terminal the progress of a rollout is one line redrawn
	// in place; otherwise it is printed as plain lines.
	Out io.Writer
	// DataDir holds the demo's state; empty: a new temporary directory, removed at the end.
	DataDir string
	// Rate is the steady traffic in requests per second; 0: 400.
	Rate int
}

// Result is what the demo observed.
type Result struct {
	Steps  []StepResult     `json:"steps"`
	Served []loadgen.Counts `json:"served"`
	// Total and Failed count every request sent through the proxy.
	Total, Failed uint64
}

// StepResult is one rollout of the demo.
type StepResult struct {
	Title   string          `json:"title"`
	Version string          `json:"version"`
	Want    rollout.Phase   `json:"want"`
	Rollout rollout.Rollout `json:"rollout"`
	// Failed counts requests that failed while this step ran.
	Failed uint64 `json:"failed"`
	// FailuresAllowed: the step deploys a version that fails requests on
	// purpose (a bad canary); its own errors are expected.
	FailuresAllowed bool `json:"failuresAllowed"`
}

const rollingStrategy = `    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}`

const canaryStrategy = `    type: Canary
    canary:
      steps:
        - setWeight: 25
        - pause: {duration: 5s}
        - setWeight: 50
        - pause: {duration: 5s}`

const blueGreenStrategy = `    type: BlueGreen
    blueGreen:
      autoPromotion: true
      scaleDownDelaySeconds: 5
      smokeTests:
        - {name: health, path: /health, expectStatus: 200, expectBody: pass}
        - {name: home, path: /, expectStatus: 200}`

// demoSteps are the releases after the first: each may apply the spec
// again with another strategy first.
var demoSteps = []struct {
	title, version  string
	want            rollout.Phase
	strategy        string
	strategyName    string
	failuresAllowed bool
}{
	{title: "rolling update to v2 (a good version)", version: "v2", want: rollout.Succeeded},
	{title: "rolling update to v3, which never becomes ready", version: "v3+never-ready", want: rollout.RolledBack},
	{title: "canary of v4, which fails 20% of its requests", version: "v4+errors=0.2", want: rollout.RolledBack,
		strategy: canaryStrategy, strategyName: "a canary strategy: 25% → pause 5s → 50% → pause 5s → 100%, promoted on evidence", failuresAllowed: true},
	{title: "canary of v5 (a good version)", version: "v5", want: rollout.Succeeded},
	{title: "blue-green release of v6", version: "v6", want: rollout.Succeeded,
		strategy: blueGreenStrategy, strategyName: "a blue-green strategy: green beside blue, smoke tests on the preview listener, switch, blue kept 5s"},
}

// OK reports whether the step ended as it should.
func (s StepResult) OK() bool { return s.Rollout.Phase == s.Want }

const appName = "gemini-api"
const envName = "demo"

var specTemplate = template.Must(template.New("spec").Parse(`apiVersion: gantry.dev/v1
kind: App
metadata:
  name: ` + appName + `
spec:
  replicas: 3
  workload:
    command: {{.Executable}}
    args: ["sample", "--port", "{{"{{.Port}}"}}", "--version", "{{"{{.Version}}"}}", "--instance", "{{"{{.Instance}}"}}"]
  resources:
    requests: {memory: 256Mi, cpu: 250m}
    limits: {memory: 512Mi, cpu: 500m}
  livenessProbe:
    httpGet: {path: /health}
    periodSeconds: 1
    failureThreshold: 3
  readinessProbe:
    httpGet: {path: /ready}
    periodSeconds: 1
  strategy:
{{.Strategy}}
  analysis:
    minRequests: 300
  progressDeadlineSeconds: 12
  terminationGracePeriodSeconds: 10
environments:
  - name: ` + envName + `
    proxy: {listen: "127.0.0.1:0"}
`))

// isTerminal reports whether w is a terminal, where progress redraws in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Run runs the demo and returns what it saw; the error is non-nil when a
// step did not end as it should or a request failed outside the bad step.
func Run(ctx context.Context, opts Options) (res Result, err error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Rate <= 0 {
		opts.Rate = 400
	}
	if opts.Executable == "" {
		if opts.Executable, err = os.Executable(); err != nil {
			return res, fmt.Errorf("find gantry's own executable: %w", err)
		}
	}
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "gantry-demo-")
		if err != nil {
			return res, fmt.Errorf("create demo directory: %w", err)
		}
		defer os.RemoveAll(dir)
		opts.DataDir = dir
	}
	n := newNarrator(opts.Out, isTerminal(opts.Out))
	n.say("starting gantry on its embedded defaults (data in %s)", opts.DataDir)
	token := auth.NewSecret() // the demo's client authenticates with it
	srv, err := server.New(ctx, server.Options{
		DataDir: opts.DataDir, APIAddr: "127.0.0.1:0", StopInstancesOnExit: true,
		Interval: 200 * time.Millisecond, RestartBackoff: 300 * time.Millisecond,
		Token: token,
	})
	if err != nil {
		return res, err
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	defer func() {
		stopServer()
		n.say("stopping gantry and every instance it started")
		if serr := <-srvDone; serr != nil {
			err = errors.Join(err, serr)
		}
	}()

	c, err := client.New(client.Options{Server: srv.APIURL(), Actor: "demo", Token: token})
	if err != nil {
		return res, err
	}
	apply := func(strategy string) error {
		var spec strings.Builder
		if err := specTemplate.Execute(&spec, map[string]string{"Executable": opts.Executable, "Strategy": strategy}); err != nil {
			return fmt.Errorf("render demo spec: %w", err)
		}
		if _, err := c.Apply(ctx, "gantry.yaml", []byte(spec.String())); err != nil {
			return fmt.Errorf("apply demo spec: %w", err)
		}
		return nil
	}
	if err := apply(rollingStrategy); err != nil {
		return res, err
	}
	proxyURL := "http://" + srv.ProxyAddr(appName, envName)
	n.say("applied %s: 3 instances of the sample service, rolling update maxSurge 1 / maxUnavailable 0, proxy on %s", appName, proxyURL)

	d := &driver{c: c, n: n}
	first, err := d.deploy(ctx, "deploy v1 (first release)", "v1", rollout.Succeeded, nil)
	res.Steps = append(res.Steps, first)
	if err != nil || !first.OK() {
		return res, errors.Join(err, fmt.Errorf("first deploy ended %s, want Succeeded: %s", first.Rollout.Phase, first.Rollout.Message))
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	load := loadgen.Start(loadCtx, loadgen.Options{URL: proxyURL + "/", Rate: opts.Rate})
	defer func() {
		stopLoad()
		load.Wait()
	}()
	n.say("sending %d requests/s through gantry's proxy", opts.Rate)
	if err := sleep(ctx, 2*time.Second); err != nil {
		return res, err
	}

	for _, step := range demoSteps {
		if step.strategy != "" {
			if err := apply(step.strategy); err != nil {
				return res, err
			}
			n.say("applied the spec again with %s", step.strategyName)
		}
		sr, err := d.deploy(ctx, step.title, step.version, step.want, load)
		sr.FailuresAllowed = step.failuresAllowed
		res.Steps = append(res.Steps, sr)
		if err != nil {
			return res, err
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			return res, err
		}
	}
	stopLoad()
	load.Wait()
	res.Served, res.Total, res.Failed = load.ByVersion(), load.Total(), load.Failed()
	summarize(opts.Out, res)
	return res, verdict(res)
}

// verdict says what, if anything, went wrong.
func verdict(res Result) error {
	var errs []error
	for _, s := range res.Steps {
		if !s.OK() {
			errs = append(errs, fmt.Errorf("%s: ended %s, want %s (%s: %s)", s.Title, s.Rollout.Phase, s.Want, s.Rollout.Reason, s.Rollout.Message))
		}
		if s.Failed > 0 && !s.FailuresAllowed {
			errs = append(errs, fmt.Errorf("%s: %d request(s) failed", s.Title, s.Failed))
		}
	}
	return errors.Join(errs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
