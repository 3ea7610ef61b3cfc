package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/dashboard"
	"github.com/gantry-dev/gantry/server"
)

func TestDashboard_SignIn(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dashboard.key")
	sharedKey := func(o *server.Options) { o.DashboardKeyFile = keyFile }
	s := startServer(t, t.TempDir(), "127.0.0.1:0", sharedKey)
	b := newBrowser(t, s.url())

	if res := b.do("GET", "/", "", nil); res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("GET / = %d, CSP %q; want the page with a same-origin CSP", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if res := b.signIn("gantry_wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign-in with a wrong token = %d, want 401", res.StatusCode)
	}
	res := b.signIn(adminToken)
	if res.StatusCode != 200 {
		t.Fatalf("sign-in = %d, want 200", res.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == dashboard.CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || strings.Contains(cookie.Value, adminToken) {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, without the token in clear", cookie)
	}
	var sess dashboard.Session
	if err := json.NewDecoder(res.Body).Decode(&sess); err != nil || sess.CSRF == "" || sess.Name != "local" {
		t.Fatalf("session = %+v, %v; want token local with a CSRF token", sess, err)
	}

	t.Run("reads pass as the token", func(t *testing.T) {
		if res := b.do("GET", "/api/v1/apps", "", nil); res.StatusCode != 200 {
			t.Errorf("GET /api/v1/apps with the cookie = %d, want 200", res.StatusCode)
		}
	})
	t.Run("changes need the CSRF token", func(t *testing.T) {
		if res := b.do("POST", "/api/v1/apps", `{}`, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST without X-CSRF-Token = %d, want 403", res.StatusCode)
		}
		if res := b.do("POST", "/api/v1/apps", `{}`, map[string]string{dashboard.CSRFHeader: "forged"}); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST with a forged X-CSRF-Token = %d, want 403", res.StatusCode)
		}
		// With the token the API itself answers: an empty spec is invalid.
		if res := b.do("POST", "/api/v1/apps", `{}`, map[string]string{dashboard.CSRFHeader: sess.CSRF}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST with X-CSRF-Token = %d, want the API's 400 for an empty spec", res.StatusCode)
		}
	})
	t.Run("a forged cookie is no session", func(t *testing.T) {
		other := newBrowser(t, s.url())
		res := other.do("GET", "/api/v1/apps", "", map[string]string{"Cookie": dashboard.CookieName + "=" + strings.Repeat("A", 80)})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET with a forged cookie = %d, want 401", res.StatusCode)
		}
	})
	t.Run("sign-in from another site is refused", func(t *testing.T) {
		other := newBrowser(t, s.url())
		res := other.do("POST", "/dashboard/login", "token="+adminToken,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site sign-in = %d, want 403", res.StatusCode)
		}
	})
	t.Run("the session survives a restart", func(t *testing.T) {
		s.stop()
		startServer(t, s.dir, s.addr, sharedKey)
		if res := b.do("GET", "/dashboard/session", "", nil); res.StatusCode != 200 {
			t.Errorf("GET /dashboard/session after a restart = %d, want 200", res.StatusCode)
		}
	})
	t.Run("another server with the same key file accepts the session", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(s.dir, "dashboard.key")); err == nil {
			t.Error("a key was made in the data directory although --dashboard-key-file names another")
		}
		withCookie := map[string]string{"Cookie": dashboard.CookieName + "=" + cookie.Value}
		other := startServer(t, t.TempDir(), "127.0.0.1:0", sharedKey)
		if res := newBrowser(t, other.url()).do("GET", "/dashboard/session", "", withCookie); res.StatusCode != 200 {
			t.Errorf("GET /dashboard/session on a server sharing the key file = %d, want 200", res.StatusCode)
		}
		own := startServer(t, t.TempDir(), "127.0.0.1:0")
		if res := newBrowser(t, own.url()).do("GET", "/dashboard/session", "", withCookie); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /dashboard/session on a server with its own key = %d, want 401", res.StatusCode)
		}
	})
}

func TestDashboard_OneTimeLink(t *testing.T) {
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	link, err := s.c.DashboardLink(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s.url())
	res := b.do("GET", link.Path, "", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("GET link = %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.do("GET", "/dashboard/session", "", nil); res.StatusCode != 200 {
		t.Fatalf("session after the link = %d, want 200", res.StatusCode)
	}
	again := newBrowser(t, s.url())
	res = again.do("GET", link.Path, "", nil)
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "link-expired") {
		t.Errorf("second use of the link sent to %q, want the expired-link sign-in", loc)
	}
	if res := again.do("GET", "/dashboard/session", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("session after reusing the link = %d, want 401", res.StatusCode)
	}
	if res := newBrowser(t, s.url()).do("POST", "/dashboard/links", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("link without a token = %d, want 401", res.StatusCode)
	}
}

// TestDashboard_ViewerCannotAct: a viewer's session reads, and its forged
// commands get the API's 403 even with a valid CSRF token.
func TestDashboard_ViewerCannotAct(t *testing.T) {
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	if _, err := s.c.Apply(t.Context(), "gantry.yaml", []byte(appSpec(t, ""))); err != nil {
		t.Fatal(err)
	}
	viewer := s.token("watcher", auth.Viewer, "prod")
	b := newBrowser(t, s.url())
	res := b.signIn(viewer)
	var sess dashboard.Session
	if err := json.NewDecoder(res.Body).Decode(&sess); err != nil {
		t.Fatal(err)
	}
	if res := b.do("GET", "/api/v1/apps/web/environments/prod/status", "", nil); res.StatusCode != 200 {
		t.Fatalf("viewer status = %d, want 200", res.StatusCode)
	}
	for _, cmd := range []string{"promote", "pause", "abort", "undo", "deploy"} {
		res := b.do("POST", "/api/v1/apps/web/environments/prod/"+cmd, `{"version":"v9"}`, map[string]string{dashboard.CSRFHeader: sess.CSRF})
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "watcher") {
			t.Errorf("viewer %s = %d %s, want the API's 403 naming the token", cmd, res.StatusCode, body)
		}
	}
}
