package local

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// maxHealthBody is how much of a liveness response body is kept, in bytes.
const maxHealthBody = 4 << 10

// probeResult is the outcome of one probe.
type probeResult struct {
	passed bool
	// detail says why it failed, such as "HTTP 500" or "connection refused".
	detail string
	// body is the start of the response body.
	body string
	// answered: the process accepted the connection (and, for HTTP,
	// answered with a status), whether or not the probe passed.
	answered bool
}

// probeClient sends probes: a fresh connection per probe, as the kubelet
// does, and no certificate checks for HTTPS probes.
var probeClient = &http.Client{
	Transport: &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		Proxy:             nil,
	},
}

// prober probes one process.
type prober struct {
	probe spec.Probe
	// target is the URL of an HTTP probe, or host:port of a TCP probe (a
	// probe without httpGet checks that the port accepts connections).
	target string
}

// newProber returns the prober of p for an instance listening on
// 127.0.0.1:port. The workload's declared port maps to the assigned port.
func newProber(p spec.Probe, w spec.Workload, port int) prober {
	if p.HTTPGet == nil {
		return prober{probe: p, target: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	}
	g := p.HTTPGet
	if g.Port != 0 && g.Port != w.PortOrDefault() {
		port = g.Port
	}
	scheme := strings.ToLower(g.Scheme)
	if scheme == "" {
		scheme = "http"
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return prober{probe: p, target: scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + path}
}

// check runs the probe once.
func (p prober) check(ctx context.Context) probeResult {
	ctx, cancel := context.WithTimeout(ctx, p.probe.Timeout())
	defer cancel()
	if p.probe.HTTPGet == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", p.target)
		if err != nil {
			return probeResult{detail: errText(err)}
		}
		c.Close()
		return probeResult{passed: true, answered: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.target, nil)
	if err != nil {
		return probeResult{detail: err.Error()}
	}
	req.Header.Set("User-Agent", "gantry-probe")
	resp, err := probeClient.Do(req)
	if err != nil {
		return probeResult{detail: errText(err)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody))
	r := probeResult{body: strings.TrimSpace(string(b)), passed: resp.StatusCode >= 200 && resp.StatusCode < 400, answered: true}
	if !r.passed {
		r.detail = "HTTP " + strconv.Itoa(resp.StatusCode)
		if r.body != "" {
			r.detail += ": " + firstLine(r.body, 200)
		}
	}
	return r
}

// run probes after the initial delay and then every period, handing each
// result to observe, until ctx is done.
func (p prober) run(ctx context.Context, observe func(probeResult)) {
	t := time.NewTimer(p.probe.InitialDelay())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r := p.check(ctx)
		if ctx.Err() != nil {
			return
		}
		observe(r)
		t.Reset(p.probe.Period())
	}
}

// StartupGrace is how long after a start a liveness probe the process
// has never answered (connection refused, timeout) may fail without
// counting: a process that is slow to listen on a busy machine is not
// restarted for it. Once it has answered once, or the grace has passed,
// every failure counts; a probe answered with a failing status always
// counts, and a process that exits is restarted at once either way. The
// grace counts from the start, initialDelaySeconds included.
const StartupGrace = 30 * time.Second

// startupGrace tracks one run's liveness probe against StartupGrace.
type startupGrace struct {
	until    time.Time
	answered bool
}

// excuses reports whether the failed result r at now falls in the grace.
func (g *startupGrace) excuses(r probeResult, now time.Time) bool {
	g.answered = g.answered || r.answered
	return !r.passed && !g.answered && now.Before(g.until)
}

// threshold turns probe results into a pass/fail state with Kubernetes'
// success and failure thresholds: the state flips to passing after
// successes passes in a row and to failing after failures failures in a row.
type threshold struct {
	successes, failures int
	passing             bool
	passRun, failRun    int
}

// observe records one result and reports whether the state changed.
func (th *threshold) observe(passed bool) (changed bool) {
	if passed {
		th.passRun, th.failRun = th.passRun+1, 0
		if !th.passing && th.passRun >= th.successes {
			th.passing = true
			return true
		}
		return false
	}
	th.failRun, th.passRun = th.failRun+1, 0
	if th.passing && th.failRun >= th.failures {
		th.passing = false
		return true
	}
	return false
}

func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
