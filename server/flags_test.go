package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	ofrep "github.com/open-feature/go-sdk-contrib/providers/ofrep"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
)

const flagFile = `apiVersion: gantry.dev/v1
kind: Flags
environment: production
flags:
  new-ai-agent:
    variants: {on: true, off: false}
    defaultVariant: off
    rules:
      - name: staff
        when:
          - {attribute: email, op: matches, value: '@example\.com$'}
        variant: on
      - name: old apps
        when:
          - {attribute: appVersion, op: semverLessThan, value: "2.0.0"}
        variant: off
    rollout: {variant: on, percentage: 10}
  greeting:
    variants: {formal: Good day, casual: Hi}
    defaultVariant: casual
    rules:
      - when:
          - {attribute: country, op: in, values: [DE, AT, CH]}
        variant: formal
  max-items:
    variants: {few: 10, many: 50}
    defaultVariant: few
    rules:
      - when:
          - {attribute: plan, op: equals, value: pro}
        variant: many
  theme:
    variants:
      light: {background: white, accent: blue}
      dark: {background: black, accent: orange}
    defaultVariant: light
    rules:
      - when:
          - {attribute: prefersDark, op: equals, value: true}
        variant: dark
  old-checkout:
    disabled: true
    variants: {on: true, off: false}
    defaultVariant: on
`

// flagsApp is an app with a production environment, so tokens can be
// granted on it; it is never deployed.
const flagsApp = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  workload: {command: ./web}
environments:
  - name: production
    proxy: {listen: "127.0.0.1:0"}
`

// flagServer runs a server with flagFile applied to production and
// returns an admin client and an OpenFeature client reading production
// over OFREP with a viewer token.
func flagServer(t testing.TB) (base string, admin *client.Client, viewer string, of *openfeature.Client) {
	t.Helper()
	data := t.TempDir()
	s, _ := runServer(t, data)
	admin, err := client.New(client.Options{Server: s.APIURL(), Token: readAdminToken(t, data)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ApplyFlags(t.Context(), "production", api.ApplyFlagsRequest{Filename: "flags.yaml", Source: flagFile}); err != nil {
		t.Fatalf("apply flags: %v", err)
	}
	if _, err := admin.Apply(t.Context(), "gantry.yaml", []byte(flagsApp)); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateToken(t.Context(), api.TokenCreateRequest{Name: "web", Role: auth.Viewer, Envs: []string{"production"}})
	if err != nil {
		t.Fatalf("create a viewer token: %v", err)
	}
	provider := ofrep.NewProvider(s.APIURL()+"/api/v1/environments/production", ofrep.WithBearerToken(tok.Secret))
	domain := "gantry-" + t.Name()
	if err := openfeature.SetNamedProviderAndWait(domain, provider); err != nil {
		t.Fatal(err)
	}
	return s.APIURL(), admin, tok.Secret, openfeature.NewClient(domain)
}

func TestOFREP_openFeatureSDK(t *testing.T) {
	base, admin, viewer, of := flagServer(t)
	ctx := t.Context()
	ec := func(key string, attrs map[string]any) openfeature.EvaluationContext {
		return openfeature.NewEvaluationContext(key, attrs)
	}

	t.Run("boolean targeting", func(t *testing.T) {
		d, err := of.BooleanValueDetails(ctx, "new-ai-agent", false, ec("u1", map[string]any{"email": "ann@example.com"}))
		if err != nil || !d.Value || d.Reason != openfeature.TargetingMatchReason || d.Variant != "on" {
			t.Errorf("staff: %+v, %v; want true by TARGETING_MATCH", d, err)
		}
		d, err = of.BooleanValueDetails(ctx, "new-ai-agent", true, ec("u1", map[string]any{"appVersion": "1.4.0"}))
		if err != nil || d.Value || d.Variant != "off" {
			t.Errorf("old app: %+v, %v; want false (semver rule)", d, err)
		}
	})
	t.Run("string", func(t *testing.T) {
		d, err := of.StringValueDetails(ctx, "greeting", "?", ec("u1", map[string]any{"country": "AT"}))
		if err != nil || d.Value != "Good day" {
			t.Errorf("greeting in AT: %+v, %v; want Good day", d, err)
		}
		d, err = of.StringValueDetails(ctx, "greeting", "?", ec("u1", map[string]any{"country": "NL"}))
		if err != nil || d.Value != "Hi" || d.Reason != openfeature.DefaultReason {
			t.Errorf("greeting in NL: %+v, %v; want Hi by DEFAULT", d, err)
		}
	})
	t.Run("number", func(t *testing.T) {
		f, err := of.FloatValueDetails(ctx, "max-items", 0, ec("u1", map[string]any{"plan": "pro"}))
		if err != nil || f.Value != 50 {
			t.Errorf("max-items for pro: %+v, %v; want 50", f, err)
		}
		i, err := of.IntValueDetails(ctx, "max-items", 0, ec("u1", map[string]any{"plan": "free"}))
		if err != nil || i.Value != 10 {
			t.Errorf("max-items as int for free: %+v, %v; want 10", i, err)
		}
	})
	t.Run("object", func(t *testing.T) {
		d, err := of.ObjectValueDetails(ctx, "theme", nil, ec("u1", map[string]any{"prefersDark": true}))
		m, _ := d.Value.(map[string]any)
		if err != nil || m["background"] != "black" || d.Variant != "dark" {
			t.Errorf("theme: %+v, %v; want the dark object", d, err)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		d, err := of.BooleanValueDetails(ctx, "old-checkout", false, ec("u1", nil))
		if err != nil || d.Value || d.Reason != openfeature.DisabledReason {
			t.Errorf("disabled flag: %+v, %v; want the caller's default (false) with reason DISABLED", d, err)
		}
	})
	for _, tc := range []struct {
		name, flag string
		eval       func() (openfeature.ErrorCode, error)
		want       openfeature.ErrorCode
	}{
		{"unknown flag", "nope", func() (openfeature.ErrorCode, error) {
			d, err := of.BooleanValueDetails(ctx, "nope", true, ec("u1", nil))
			return d.ErrorCode, err
		}, openfeature.FlagNotFoundCode},
		{"type mismatch", "greeting", func() (openfeature.ErrorCode, error) {
			d, err := of.BooleanValueDetails(ctx, "greeting", true, ec("u1", nil))
			return d.ErrorCode, err
		}, openfeature.TypeMismatchCode},
		{"targeting key missing", "new-ai-agent", func() (openfeature.ErrorCode, error) {
			d, err := of.BooleanValueDetails(ctx, "new-ai-agent", true, openfeature.NewTargetlessEvaluationContext(map[string]any{"email": "x@y.z"}))
			return d.ErrorCode, err
		}, openfeature.TargetingKeyMissingCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, err := tc.eval()
			if err == nil || code != tc.want {
				t.Errorf("%s: code %q, err %v; want %s", tc.flag, code, err, tc.want)
			}
		})
	}

	t.Run("sticky percentage through the SDK", func(t *testing.T) {
		const n = 2000
		share := func() (on map[string]bool) {
			on = map[string]bool{}
			for i := range n {
				key := fmt.Sprintf("user-%d", i)
				d, err := of.BooleanValueDetails(ctx, "new-ai-agent", false, ec(key, nil))
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if d.Value {
					on[key] = true
				}
			}
			return on
		}
		on10 := share()
		setRollout(t, admin, "new-ai-agent", 25)
		on25 := share()
		for key := range on10 {
			if !on25[key] {
				t.Errorf("%s was on at 10%% and is off at 25%%", key)
			}
		}
		for _, c := range []struct {
			on   int
			want float64
		}{{len(on10), 10}, {len(on25), 25}} {
			got := 100 * float64(c.on) / n
			t.Logf("target %g%%: %d of %d keys on (%.2f%%)", c.want, c.on, n, got)
			if math.Abs(got-c.want) > 3 { // 2,000 keys: a binomial σ of about 1 point at 25%
				t.Errorf("measured %.2f%%, want %g%% ± 3", got, c.want)
			}
		}
	})

	t.Run("parse error", func(t *testing.T) {
		status, body, _ := ofrepPost(t, base+"/api/v1/environments/production/ofrep/v1/evaluate/flags/greeting", viewer, `{"context": `, "")
		if status != http.StatusBadRequest || !strings.Contains(body, `"PARSE_ERROR"`) {
			t.Errorf("malformed body: %d %s; want 400 PARSE_ERROR", status, body)
		}
		status, body, _ = ofrepPost(t, base+"/api/v1/environments/production/ofrep/v1/evaluate/flags/greeting", viewer, `{"context": [1]}`, "")
		if status != http.StatusBadRequest || !strings.Contains(body, `"INVALID_CONTEXT"`) {
			t.Errorf("context as a list: %d %s; want 400 INVALID_CONTEXT", status, body)
		}
	})
	t.Run("another environment's token", func(t *testing.T) {
		status, _, _ := ofrepPost(t, base+"/api/v1/environments/staging/ofrep/v1/evaluate/flags/greeting", viewer, `{}`, "")
		if status != http.StatusForbidden {
			t.Errorf("production viewer evaluating staging: %d, want 403", status)
		}
	})
}

// setRollout sets a flag's rollout percentage through the API.
func setRollout(t testing.TB, c *client.Client, key string, pct float64) {
	t.Helper()
	v, err := c.Flag(t.Context(), "production", key)
	if err != nil {
		t.Fatal(err)
	}
	f := v.Flag.Clone()
	f.Rollout.Percentage = pct
	if _, err := c.SetFlag(t.Context(), "production", f, v.Version, fmt.Sprintf("to %g%%", pct)); err != nil {
		t.Fatalf("set %s to %g%%: %v", key, pct, err)
	}
}

// ofrepPost posts body to url and returns the status, body and ETag.
func ofrepPost(t *testing.T, url, token, body, ifNoneMatch string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("ETag")
}

func TestOFREP_bulkETag(t *testing.T) {
	base, admin, viewer, _ := flagServer(t)
	url := base + "/api/v1/environments/production/ofrep/v1/evaluate/flags"
	body := `{"context": {"targetingKey": "user-7", "country": "DE"}}`
	status, out, etag := ofrepPost(t, url, viewer, body, "")
	var bulk struct {
		Flags []map[string]any `json:"flags"`
	}
	if err := json.Unmarshal([]byte(out), &bulk); status != http.StatusOK || err != nil || etag == "" {
		t.Fatalf("bulk: %d %s (ETag %q)", status, out, etag)
	}
	got := map[string]any{}
	for _, f := range bulk.Flags {
		got[f["key"].(string)] = f["value"]
	}
	if len(bulk.Flags) != 5 || got["greeting"] != "Good day" || got["max-items"] != 10.0 {
		t.Errorf("bulk flags = %v; want 5 flags, greeting Good day, max-items 10", got)
	}
	if status, _, _ := ofrepPost(t, url, viewer, body, etag); status != http.StatusNotModified {
		t.Errorf("same context with If-None-Match: %d, want 304", status)
	}
	if status, _, other := ofrepPost(t, url, viewer, `{"context": {"targetingKey": "user-8"}}`, etag); status != http.StatusOK || other == etag {
		t.Errorf("another context with the old ETag: %d (ETag %s), want 200 with another ETag", status, other)
	}
	setRollout(t, admin, "new-ai-agent", 50)
	if status, _, next := ofrepPost(t, url, viewer, body, etag); status != http.StatusOK || next == etag {
		t.Errorf("after a flag changed: %d (ETag %s), want 200 with a new ETag", status, next)
	}
}

func TestFlags_auditHistoryRevertAndMetrics(t *testing.T) {
	base, admin, viewer, of := flagServer(t)
	ctx := t.Context()
	setRollout(t, admin, "new-ai-agent", 25)
	recs, err := admin.Audit(ctx, client.AuditQuery{Action: "flags.set"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit of flags.set: %v, %v; want one record", recs, err)
	}
	if want := "rollout on 10% → enabled, default off, 2 rule(s), rollout on 25%"; !strings.Contains(recs[0].Message, want) || recs[0].Env != "production" || recs[0].Target != "flag new-ai-agent" {
		t.Errorf("audit record %+v; want env production, target flag new-ai-agent, message containing %q", recs[0], want)
	}
	if _, err := of.BooleanValueDetails(ctx, "new-ai-agent", false, openfeature.NewEvaluationContext("u1", nil)); err != nil {
		t.Fatal(err)
	}
	if recs, _ := admin.Audit(ctx, client.AuditQuery{Action: "flags.evaluate"}); len(recs) != 0 {
		t.Errorf("evaluations were audited: %v", recs)
	}

	if _, err := admin.RevertFlag(ctx, "production", "new-ai-agent", 0, ""); err != nil {
		t.Fatalf("revert: %v", err)
	}
	hist, err := admin.FlagHistory(ctx, "production", "new-ai-agent")
	if err != nil || len(hist) != 3 || hist[2].Flag.Rollout.Percentage != 10 || hist[2].Reason != "revert to version 1" {
		t.Errorf("history after revert: %+v, %v; want v3 back at 10%%", hist, err)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `gantry_flag_evaluations_total{env="production",error="",flag="new-ai-agent",reason="`; resp.StatusCode != 200 || !bytes.Contains(b, []byte(want)) {
		t.Errorf("/metrics: %d, want a line starting %s", resp.StatusCode, want)
	}
}

func TestFlags_badFileChangesNothing(t *testing.T) {
	_, admin, _, _ := flagServer(t)
	bad := `apiVersion: gantry.dev/v1
kind: Flags
environment: production
flags:
  brand-new:
    variants: {on: true, off: false}
    defaultVariant: off
  greeting:
    variants: {formal: Good day, casual: 3}
    defaultVariant: casual
    rollout: {variant: formal, percentage: 101}
    rules:
      - when: [{attribute: country, op: startsWith, value: D}]
        variant: formal
`
	_, err := admin.ApplyFlags(t.Context(), "production", api.ApplyFlagsRequest{Filename: "flags/production.yaml", Source: bad})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || len(ce.Body.Details) != 3 {
		t.Fatalf("bad file: %v; want 400 with 3 problems", err)
	}
	for i, want := range []string{
		"flags/production.yaml:9:16: flags.greeting.variants.formal: variant type mismatch: variant formal is a string but variant casual is a number",
		"flags/production.yaml:11:32: flags.greeting.rollout.percentage: percentage 101 is out of range",
		`flags/production.yaml:13:37: flags.greeting.rules[0].when[0].op: unknown operator "startsWith"`,
	} {
		if got := ce.Body.Details[i].Error(); !strings.HasPrefix(got, want) {
			t.Errorf("problem %d: %s\nwant %s…", i, got, want)
		}
	}
	if _, err := admin.Flag(t.Context(), "production", "brand-new"); !client.IsNotFound(err) {
		t.Errorf("brand-new after a refused apply: %v; want 404 (nothing half-applied)", err)
	}
}
