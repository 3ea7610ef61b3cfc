// Package hook runs the commands and HTTP webhooks that environments'
// policies name (spec.Hook) at pre-rollout, post-rollout and on rollback.
// Webhook bodies are signed with HMAC-SHA256 as GitHub signs its webhooks:
// the header X-Gantry-Signature is "sha256=" and the hex digest of the body
// under the hook's secret. A hook that does not finish within its timeout
// fails with that reason.
package hook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/spec"
)

// Point is when a hook runs.
type Point string

// The points.
const (
	PreRollout  Point = "preRollout"
	PostRollout Point = "postRollout"
	OnRollback  Point = "onRollback"
)

// Payload is the JSON body a webhook receives (and, flattened to
// GANTRY_* variables, a command's environment).
type Payload struct {
	Point   Point  `json:"point"`
	App     string `json:"app"`
	Env     string `json:"env"`
	Version string `json:"version"`
	// Actor is who asked for the deploy.
	Actor string `json:"actor,omitempty"`
	// RolloutID is the rollout's ID; 0 before it exists (pre-rollout).
	RolloutID int64 `json:"rolloutId,omitempty"`
	// Phase is the rollout's phase at post-rollout and on rollback.
	Phase string `json:"phase,omitempty"`
	// DryRun: gantry deploy --dry-run asked; nothing will be deployed.
	DryRun bool      `json:"dryRun,omitempty"`
	At     time.Time `json:"at"`
}

// SignatureHeader carries the body's HMAC-SHA256 signature.
const SignatureHeader = "X-Gantry-Signature"

// Sign returns the signature header's value for body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify says whether header is body's signature under secret, in
// constant time; receivers use it.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Runner runs hooks.
type Runner struct {
	// BaseDir is where commands run and relative secret files are read.
	BaseDir string
	// Client sends webhooks; nil: a client without its own timeout (each
	// hook's timeout bounds it).
	Client *http.Client
}

// Run runs one hook and reports its outcome; it never returns early
// without one.
func (r Runner) Run(ctx context.Context, h spec.Hook, p Payload) gate.HookOutcome {
	timeout := h.Timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var detail string
	var err error
	if h.Webhook != nil {
		detail, err = r.webhook(ctx, h, p)
	} else {
		detail, err = r.command(ctx, h, p)
	}
	took := time.Since(start).Round(time.Millisecond)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		what := "command " + strings.Join(h.Command, " ")
		if h.Webhook != nil {
			what = "webhook " + h.Webhook.URL
		}
		return gate.HookOutcome{Name: h.Name, Detail: "timed out",
			Err: fmt.Errorf("hook %s: %s did not finish within its timeout of %s; make the receiver answer sooner or raise timeoutSeconds", h.Name, what, timeout)}
	}
	if err != nil {
		return gate.HookOutcome{Name: h.Name, Detail: err.Error(), Err: fmt.Errorf("hook %s: %w", h.Name, err)}
	}
	return gate.HookOutcome{Name: h.Name, Detail: fmt.Sprintf("%s in %s", detail, took)}
}

func (r Runner) webhook(ctx context.Context, h spec.Hook, p Payload) (string, error) {
	body, _ := json.Marshal(p) // a Payload always encodes
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("webhook %s: %w", h.Webhook.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gantry-hook")
	req.Header.Set("X-Gantry-Hook", h.Name)
	req.Header.Set("X-Gantry-Point", string(p.Point))
	if h.Webhook.Secret != nil {
		secret, err := h.Webhook.Secret.Resolve("hooks "+h.Name+" webhook.secret", r.BaseDir)
		if err != nil {
			return "", err
		}
		req.Header.Set(SignatureHeader, Sign([]byte(secret), body))
	}
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook %s: %w", h.Webhook.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("webhook %s answered %s: %s", h.Webhook.URL, resp.Status, strings.TrimSpace(string(msg)))
	}
	return fmt.Sprintf("HTTP %d", resp.StatusCode), nil
}

func (r Runner) command(ctx context.Context, h spec.Hook, p Payload) (string, error) {
	cmd := exec.CommandContext(ctx, h.Command[0], h.Command[1:]...)
	cmd.Dir = r.BaseDir
	cmd.Env = append(os.Environ(),
		"GANTRY_HOOK="+h.Name, "GANTRY_HOOK_POINT="+string(p.Point), "GANTRY_APP="+p.App, "GANTRY_ENV="+p.Env,
		"GANTRY_VERSION="+p.Version, "GANTRY_ACTOR="+p.Actor, "GANTRY_PHASE="+p.Phase, fmt.Sprintf("GANTRY_ROLLOUT_ID=%d", p.RolloutID))
	if p.DryRun {
		cmd.Env = append(cmd.Env, "GANTRY_DRY_RUN=1")
	}
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := strings.TrimSpace(string(out))
		if len(tail) > 300 {
			tail = "…" + tail[len(tail)-300:]
		}
		return "", fmt.Errorf("command %s: %w: %s", strings.Join(h.Command, " "), err, tail)
	}
	return "exit 0", nil
}

// RunAll runs the named hooks of app in order and returns their outcomes.
// A name the app does not declare (a spec that skipped validation) is an
// outcome with an error.
func (r Runner) RunAll(ctx context.Context, app *spec.App, names []string, p Payload) []gate.HookOutcome {
	out := make([]gate.HookOutcome, 0, len(names))
	for _, n := range names {
		h, ok := app.Hook(n)
		if !ok {
			out = append(out, gate.HookOutcome{Name: n, Err: fmt.Errorf("hook %s is not declared in the app's hooks", n)})
			continue
		}
		out = append(out, r.Run(ctx, h, p))
	}
	return out
}
