package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
)

const testSpec = `apiVersion: gantry.dev/v1
kind: App
metadata:
  name: payments
spec:
  workload:
    command: ./bin/payments
    args: ["--listen", "127.0.0.1:{{.Port}}"]
environments:
  - name: staging
    proxy: {listen: "127.0.0.1:0"}
  - name: production
    proxy: {listen: "127.0.0.1:0"}
`

// fakeEngine answers every command with a rollout of the request's app
// and environment, started by its actor.
type fakeEngine struct{}

func (fakeEngine) Deploy(_ context.Context, req rollout.DeployRequest) (rollout.Rollout, error) {
	return rollout.Rollout{ID: 1, App: req.App, Env: req.Env, Actor: req.Actor, Phase: rollout.Pending}, nil
}
func (fakeEngine) Undo(_ context.Context, app, env string, _ int, actor string) (rollout.Rollout, error) {
	return rollout.Rollout{ID: 1, App: app, Env: env, Actor: actor, Phase: rollout.Pending}, nil
}
func (e fakeEngine) Promote(_ context.Context, req rollout.CommandRequest, _ bool) (rollout.Rollout, error) {
	return e.cmd(req)
}
func (e fakeEngine) Abort(_ context.Context, req rollout.CommandRequest) (rollout.Rollout, error) {
	return e.cmd(req)
}
func (e fakeEngine) Pause(_ context.Context, req rollout.CommandRequest) (rollout.Rollout, error) {
	return e.cmd(req)
}
func (e fakeEngine) Resume(_ context.Context, req rollout.CommandRequest) (rollout.Rollout, error) {
	return e.cmd(req)
}
func (e fakeEngine) Retry(_ context.Context, req rollout.CommandRequest) (rollout.Rollout, error) {
	return e.cmd(req)
}
func (fakeEngine) Kick() {}
func (fakeEngine) cmd(req rollout.CommandRequest) (rollout.Rollout, error) {
	return rollout.Rollout{ID: 1, App: req.App, Env: req.Env, Actor: req.Actor, Phase: rollout.Progressing}, nil
}

// testAPI is a handler over a real SQLite store with an applied app
// "payments" (staging, production) and rollouts 1 (staging) and 2
// (production, started by "alice").
type testAPI struct {
	h     *api.Handler
	store *sqlite.Store
	now   time.Time
}

func newTestAPI(t testing.TB) *testAPI {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	app, err := spec.Parse("gantry.yaml", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.PutApp(t.Context(), rollout.AppRecord{Name: "payments", Spec: *app, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []rollout.Rollout{
		{App: "payments", Env: "staging", Phase: rollout.Progressing, Actor: "alice", CreatedAt: now},
		{App: "payments", Env: "production", Phase: rollout.Paused, Actor: "alice", CreatedAt: now},
	} {
		if _, err := s.CreateRollout(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	h := api.NewHandler(api.Options{
		Store: s, Engine: fakeEngine{}, Tokens: s, Audit: audit.New(audit.Options{Store: s}),
		Policy: auth.DefaultPolicy(), Version: "test",
		Flags:     featureflag.NewCatalog(featureflag.CatalogOptions{Store: s}),
		AuthLimit: api.AuthLimit{Failures: -1}, // these tests send many tokenless requests from one address
	})
	return &testAPI{h: h, store: s, now: now}
}

// token issues a token and returns its secret.
func (a *testAPI) token(t testing.TB, name string, grants ...auth.Grant) string {
	t.Helper()
	secret, _, err := auth.Issue(t.Context(), a.store, auth.IssueRequest{Name: name, Grants: grants, Now: a.now})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// do sends one request through the handler.
func (a *testAPI) do(t *testing.T, method, path, token string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	req.RemoteAddr = "192.0.2.7:40000"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, req)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body.String(), err)
	}
	return eb.Error.Code, eb.Error.Message
}

// requestFor fills a route pattern's path parameters: app payments,
// environment env, rollout id (1: staging, 2: production), a token that
// does not exist, instance x.
func requestFor(r api.Route, env string) (method, path string) {
	method = r.Method()
	if method == "" {
		method = http.MethodGet
	}
	id := "1"
	if env == "production" {
		id = "2"
	}
	path = strings.NewReplacer("{app}", "payments", "{env}", env, "{id}", id, "{instance}", "x", "{token}", "tok_missing").Replace(r.Path())
	if path == "/" {
		path = "/api/v1/no-such-route"
	}
	return method, path
}

func body(method string) []byte {
	if method == http.MethodPost {
		return []byte("{}")
	}
	return nil
}

// TestHandler_everyRouteChecksAccess sends every registered route a
// request with no token, a malformed, unknown, expired and revoked one,
// tokens one role too low or on the wrong environment, and one with
// exactly the role it needs.
func TestHandler_everyRouteChecksAccess(t *testing.T) {
	a := newTestAPI(t)
	expired, _, err := auth.Issue(t.Context(), a.store, auth.IssueRequest{Name: "old", Grants: auth.Grants(auth.Admin, "*"), TTL: time.Hour, Now: a.now.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	revoked, revokedTok, err := auth.Issue(t.Context(), a.store, auth.IssueRequest{Name: "gone", Grants: auth.Grants(auth.Admin, "*"), Now: a.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.RevokeToken(t.Context(), revokedTok.ID, a.now); err != nil {
		t.Fatal(err)
	}
	routes := a.h.Routes()
	if len(routes) < 20 {
		t.Fatalf("Routes() lists %d routes, want every registered one", len(routes))
	}
	for _, route := range routes {
		t.Run(route.Pattern, func(t *testing.T) {
			method, path := requestFor(route, "staging")
			if route.Access.Public {
				if w := a.do(t, method, path, "", nil); w.Code != http.StatusOK {
					t.Errorf("public %s %s without a token: status %d, want 200", method, path, w.Code)
				}
				return
			}
			for name, tok := range map[string]string{
				"no token": "", "garbage": "not-a-token", "unknown": auth.NewSecret(), "expired": expired, "revoked": revoked,
			} {
				w := a.do(t, method, path, tok, body(method))
				if w.Code != http.StatusUnauthorized {
					t.Errorf("%s token: status %d, want 401; body %s", name, w.Code, w.Body)
					continue
				}
				if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s token: WWW-Authenticate = %q, want Bearer", name, got)
				}
				if code, msg := errorCode(t, w); code != api.CodeUnauthenticated || msg == "" {
					t.Errorf("%s token: error %q %q, want unauthenticated with a message", name, code, msg)
				}
			}
			need := route.Access.Role
			var denied [][]auth.Grant
			var exact []auth.Grant
			switch route.Access.Scope {
			case api.ScopeEnv, api.ScopeRollout:
				denied = append(denied, auth.Grants(need, "production", "development"))
				exact = auth.Grants(need, "staging")
			case api.ScopeEverywhere:
				denied = append(denied, auth.Grants(need, "staging", "production"))
				exact = auth.Grants(need, "*")
			case api.ScopeAnywhere:
				exact = auth.Grants(need, "staging")
			default:
				t.Fatalf("route %s has scope %v", route.Pattern, route.Access.Scope)
			}
			if need > auth.Viewer {
				denied = append(denied, auth.Grants(need-1, "*"))
			}
			for _, grants := range denied {
				w := a.do(t, method, path, a.token(t, "low", grants...), body(method))
				if w.Code != http.StatusForbidden {
					t.Errorf("token with %v: status %d, want 403; body %s", grants, w.Code, w.Body)
					continue
				}
				code, msg := errorCode(t, w)
				if code != api.CodeForbidden || !strings.Contains(msg, "needs role "+need.String()) || !strings.Contains(msg, "token 'low' has") {
					t.Errorf("token with %v: error %q %q, want forbidden saying it needs role %v and what token 'low' has", grants, code, msg, need)
				}
			}
			w := a.do(t, method, path, a.token(t, "exact", exact...), body(method))
			if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
				t.Errorf("token with %v: status %d, want the request let through; body %s", exact, w.Code, w.Body)
			}
		})
	}
}

func TestHandler_denialSaysWhatIsMissing(t *testing.T) {
	a := newTestAPI(t)
	ci := a.token(t, "ci", auth.Grant{Env: "staging", Role: auth.Deployer}, auth.Grant{Env: "production", Role: auth.Viewer})
	w := a.do(t, http.MethodPost, "/api/v1/apps/payments/environments/production/deploy", ci, []byte(`{"version": "v2"}`))
	_, msg := errorCode(t, w)
	want := "deploy payments to production needs role deployer on environment production; token 'ci' has viewer"
	if w.Code != http.StatusForbidden || msg != want {
		t.Errorf("deploy to production with a viewer token: %d %q, want 403 %q", w.Code, msg, want)
	}
}

func TestHandler_applyNeedsEveryEnvironment(t *testing.T) {
	a := newTestAPI(t)
	src, _ := json.Marshal(api.ApplyRequest{Source: testSpec})
	staging := a.token(t, "dev", auth.Grants(auth.Deployer, "staging")...)
	if w := a.do(t, http.MethodPost, "/api/v1/apps", staging, src); w.Code != http.StatusForbidden {
		t.Errorf("apply of a spec with production by a staging deployer: status %d, want 403; body %s", w.Code, w.Body)
	}
	both := a.token(t, "lead", auth.Grants(auth.Deployer, "staging", "production")...)
	if w := a.do(t, http.MethodPost, "/api/v1/apps", both, src); w.Code != http.StatusOK {
		t.Errorf("apply by a deployer on both environments: status %d, want 200; body %s", w.Code, w.Body)
	}
}

func TestHandler_fourEyesOnPromote(t *testing.T) {
	a := newTestAPI(t) // rollout 2 in production was started by alice
	path := "/api/v1/apps/payments/environments/production/promote"
	tests := []struct {
		name   string
		grants []auth.Grant
		want   int
	}{
		{"deployer cannot approve", auth.Grants(auth.Deployer, "production"), http.StatusForbidden},
		{"requester cannot approve", auth.Grants(auth.Approver, "production"), http.StatusForbidden},
		{"another approver can", auth.Grants(auth.Approver, "production"), http.StatusOK},
	}
	names := []string{"bob", "alice", "carol"}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := a.do(t, http.MethodPost, path, a.token(t, names[i], tc.grants...), []byte("{}"))
			if w.Code != tc.want {
				t.Errorf("promote in production by %s: status %d, want %d; body %s", names[i], w.Code, tc.want, w.Body)
			}
		})
	}
	// Staging requires no approval: a deployer promotes.
	w := a.do(t, http.MethodPost, "/api/v1/apps/payments/environments/staging/promote", a.token(t, "alice", auth.Grants(auth.Deployer, "staging")...), []byte("{}"))
	if w.Code != http.StatusOK {
		t.Errorf("promote in staging by a deployer: status %d, want 200; body %s", w.Code, w.Body)
	}
}

func TestHandler_badBodies(t *testing.T) {
	a := newTestAPI(t)
	admin := a.token(t, "admin", auth.Grants(auth.Admin, "*")...)
	big := append([]byte(`{"version": "`), bytes.Repeat([]byte("x"), api.MaxBodyBytes)...)
	big = append(big, `"}`...)
	bodies := []struct {
		name     string
		body     []byte
		status   int
		code     string
		contains string
	}{
		{"malformed", []byte(`{"version": `), http.StatusBadRequest, api.CodeBadRequest, "JSON"},
		{"unknown field", []byte(`{"nope": 1}`), http.StatusBadRequest, api.CodeBadRequest, `unknown field "nope"`},
		{"two values", []byte(`{} {}`), http.StatusBadRequest, api.CodeBadRequest, "more than one"},
		{"empty", []byte(``), http.StatusBadRequest, api.CodeBadRequest, "empty"},
		{"oversized", big, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "bytes"},
	}
	for _, route := range a.h.Routes() {
		if route.Method() != http.MethodPost || route.Access.ReadOnly {
			continue // OFREP evaluations answer in OFREP's own error format (ofrep_test.go)
		}
		for _, b := range bodies {
			t.Run(route.Pattern+"/"+b.name, func(t *testing.T) {
				method, path := requestFor(route, "staging")
				w := a.do(t, method, path, admin, b.body)
				code, msg := errorCode(t, w)
				if w.Code != b.status || code != b.code || !strings.Contains(msg, b.contains) {
					t.Errorf("%s body: %d %s %q, want %d %s containing %q", b.name, w.Code, code, msg, b.status, b.code, b.contains)
				}
			})
		}
	}
}

func TestHandler_auditsMutatingRequests(t *testing.T) {
	a := newTestAPI(t)
	ci := a.token(t, "ci", auth.Grants(auth.Deployer, "staging")...)
	a.do(t, http.MethodPost, "/api/v1/apps/payments/environments/staging/deploy", ci, []byte(`{"version": "v2"}`))
	a.do(t, http.MethodPost, "/api/v1/apps/payments/environments/production/deploy", ci, []byte(`{"version": "v2"}`))
	a.do(t, http.MethodPost, "/api/v1/apps/payments/environments/staging/deploy", "", []byte(`{"version": "v2"}`))
	a.do(t, http.MethodGet, "/api/v1/apps/payments/environments/staging/status", ci, nil) // reads are not audited
	rs, err := a.store.ListAudit(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		actor, action, env string
		status             int
		outcome            string
	}
	var got []row
	for _, r := range rs {
		got = append(got, row{r.Actor, r.Action, r.Env, r.Status, r.Outcome})
		if r.RemoteAddr != "192.0.2.7:40000" || r.Method != http.MethodPost || r.Path == "" {
			t.Errorf("record %d: from %q %s %q, want the request's peer, method and path", r.Seq, r.RemoteAddr, r.Method, r.Path)
		}
	}
	want := []row{
		{"ci", "deploy", "staging", 201, "ok"},
		{"ci", "deploy", "production", 403, "denied"},
		{"", "deploy", "staging", 401, "denied"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit records %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit record %d = %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if rs[1].Message == "" {
		t.Error("the denied request's record has no message")
	}
	rep, err := audit.Verify(t.Context(), a.store)
	if err != nil || !rep.OK() {
		t.Errorf("Verify = %+v, %v; want the chain intact", rep, err)
	}
}

func TestHandler_tokensThroughTheAPI(t *testing.T) {
	a := newTestAPI(t)
	admin := a.token(t, "admin", auth.Grants(auth.Admin, "*")...)
	w := a.do(t, http.MethodPost, "/api/v1/tokens", admin, []byte(`{"name": "ci", "role": "deployer", "envs": ["staging"], "expiresIn": "720h"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("create token: %d %s", w.Code, w.Body)
	}
	var created api.TokenCreateResponse
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Secret, auth.SecretPrefix) || created.Token.State != "active" || created.Token.ExpiresAt.IsZero() {
		t.Errorf("created %+v, want an active, expiring token with its secret", created)
	}
	if strings.Contains(w.Body.String(), auth.HashSecret(created.Secret)) {
		t.Error("the answer carries the token's hash")
	}
	status := "/api/v1/apps/payments/environments/staging/status"
	if w := a.do(t, http.MethodGet, status, created.Secret, nil); w.Code != http.StatusOK {
		t.Errorf("new token reads status: %d, want 200", w.Code)
	}
	if w := a.do(t, http.MethodPost, "/api/v1/tokens/"+created.Token.ID+"/revoke", admin, []byte("{}")); w.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	if w := a.do(t, http.MethodGet, status, created.Secret, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("revoked token reads status: %d, want 401", w.Code)
	}
	w = a.do(t, http.MethodPost, "/api/v1/tokens", admin, []byte(`{"role": "root", "envs": ["staging"]}`))
	if _, msg := errorCode(t, w); w.Code != http.StatusBadRequest || !strings.Contains(msg, "unknown role") {
		t.Errorf("create with an unknown role: %d %q, want 400 naming the role", w.Code, msg)
	}
}

func TestHandler_openAPIListsEveryRoute(t *testing.T) {
	a := newTestAPI(t)
	doc := string(api.OpenAPI)
	for _, route := range a.h.Routes() {
		p := route.Path()
		if p == "/" {
			continue
		}
		if !strings.Contains(doc, "\n  "+p+":") {
			t.Errorf("api/openapi.yaml has no path %s", p)
		}
	}
	admin := a.token(t, "admin", auth.Grants(auth.Viewer, "staging")...)
	if w := a.do(t, http.MethodGet, "/api/v1/openapi.yaml", admin, nil); w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "openapi: 3.1") {
		t.Errorf("GET /api/v1/openapi.yaml: %d, want 200 and the document", w.Code)
	}
}

func TestHandler_unknownRoutesAndMethodsNeedAToken(t *testing.T) {
	a := newTestAPI(t)
	viewer := a.token(t, "v", auth.Grants(auth.Viewer, "staging")...)
	for _, tc := range []struct{ method, path string }{
		{http.MethodDelete, "/api/v1/apps"},
		{http.MethodGet, "/api/v2/anything"},
		{http.MethodPut, "/health/x"},
	} {
		if w := a.do(t, tc.method, tc.path, "", nil); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", tc.method, tc.path, w.Code)
		}
		w := a.do(t, tc.method, tc.path, viewer, nil)
		if code, _ := errorCode(t, w); w.Code != http.StatusNotFound || code != api.CodeNotFound {
			t.Errorf("%s %s with a token: %d %s, want 404 not_found", tc.method, tc.path, w.Code, code)
		}
	}
}

// TestOpenAPI_reasons checks that the Reason schema lists every reason of
// rollout.Reasons, in order, and no other.
func TestOpenAPI_reasons(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Reason struct {
					Enum []string `yaml:"enum"`
				} `yaml:"Reason"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rollout.Reasons {
		want = append(want, string(r.Reason))
	}
	if got := doc.Components.Schemas.Reason.Enum; !slices.Equal(got, want) {
		t.Errorf("api/openapi.yaml Reason enum = %v, want rollout.Reasons: %v", got, want)
	}
}
