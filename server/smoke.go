package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// smokeTester runs a blue-green revision's smoke tests against its
// environment's preview listener.
type smokeTester struct {
	router  router.Router
	baseDir string
	client  *http.Client
}

var _ rollout.SmokeTester = (*smokeTester)(nil)

// SmokeTest implements rollout.SmokeTester.
func (s *smokeTester) SmokeTest(ctx context.Context, rev rollout.Revision) ([]rollout.SmokeResult, error) {
	addr := s.router.PreviewAddr(rev.App, rev.Env)
	if addr == "" {
		return nil, fmt.Errorf("%s/%s has no preview listener", rev.App, rev.Env)
	}
	base := "http://" + addr
	var tests = rev.Spec.Strategy.BlueGreen
	if tests == nil {
		return nil, nil
	}
	out := make([]rollout.SmokeResult, 0, len(tests.SmokeTests))
	for _, t := range tests.SmokeTests {
		tctx, cancel := context.WithTimeout(ctx, t.Timeout())
		var res rollout.SmokeResult
		if len(t.Command) > 0 {
			res = s.command(tctx, t.Label(), t.Command, base)
		} else {
			res = s.http(tctx, t.Label(), t.HTTPMethod(), base+t.Path, t.Body, t.Status(), t.ExpectBody)
		}
		cancel()
		out = append(out, res)
		if !res.Passed {
			break
		}
	}
	return out, nil
}

func (s *smokeTester) http(ctx context.Context, name, method, url, body string, status int, expect string) rollout.SmokeResult {
	res := rollout.SmokeResult{Name: name}
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		res.Detail = err.Error()
		return res
	}
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case resp.StatusCode != status:
		res.Detail = fmt.Sprintf("want status %d, got %d: %s", status, resp.StatusCode, snippet(got))
	case expect != "" && !bytes.Contains(got, []byte(expect)):
		res.Detail = fmt.Sprintf("status %d but the body lacks %q: %s", resp.StatusCode, expect, snippet(got))
	default:
		res.Passed = true
		res.Detail = fmt.Sprintf("HTTP %d in %s", resp.StatusCode, took)
	}
	return res
}

func (s *smokeTester) command(ctx context.Context, name string, argv []string, base string) rollout.SmokeResult {
	res := rollout.SmokeResult{Name: name}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.baseDir
	cmd.Env = append(os.Environ(), "GANTRY_PREVIEW_URL="+base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		res.Detail = fmt.Sprintf("%v: %s", err, snippet(out))
		return res
	}
	res.Passed = true
	res.Detail = "exit 0"
	return res
}

// snippet trims output for a message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
