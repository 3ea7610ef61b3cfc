package hook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/spec"
)

func TestRunner_Webhook(t *testing.T) {
	const secret = "s3cret"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan Payload, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !Verify([]byte(secret), body, r.Header.Get(SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p Payload
		json.Unmarshal(body, &p)
		got <- p
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	h := spec.Hook{Name: "ci", Webhook: &spec.Webhook{URL: srv.URL, Secret: &spec.ValueFrom{SecretFile: "hook.secret"}}}
	r := Runner{BaseDir: dir}
	o := r.Run(t.Context(), h, Payload{Point: PreRollout, App: "api", Env: "production", Version: "1.2.0"})
	if o.Err != nil || !strings.HasPrefix(o.Detail, "HTTP 204") {
		t.Fatalf("signed webhook: %v %s", o.Err, o.Detail)
	}
	if p := <-got; p.App != "api" || p.Version != "1.2.0" || p.Point != PreRollout {
		t.Errorf("payload = %+v", p)
	}
	// A wrong secret: the receiver refuses it, and the hook fails with its answer.
	os.WriteFile(filepath.Join(dir, "hook.secret"), []byte("wrong"), 0o600)
	if o := r.Run(t.Context(), h, Payload{Point: PreRollout}); o.Err == nil || !strings.Contains(o.Err.Error(), "401 Unauthorized: bad signature") {
		t.Errorf("wrong secret: %v", o.Err)
	}
}

func TestRunner_Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	h := spec.Hook{Name: "slow", Webhook: &spec.Webhook{URL: srv.URL}, TimeoutSeconds: 1}
	o := Runner{}.Run(t.Context(), h, Payload{Point: PreRollout})
	if o.Err == nil || !strings.Contains(o.Err.Error(), "hook slow: webhook "+srv.URL+" did not finish within its timeout of 1s") {
		t.Fatalf("timeout: %v", o.Err)
	}
}

func TestRunner_Command(t *testing.T) {
	dir := t.TempDir()
	r := Runner{BaseDir: dir}
	ok := spec.Hook{Name: "scan", Command: []string{"sh", "-c", `test "$GANTRY_VERSION" = 1.2.0 && echo "$GANTRY_HOOK_POINT" > point`}}
	if o := r.Run(t.Context(), ok, Payload{Point: PostRollout, Version: "1.2.0"}); o.Err != nil {
		t.Fatalf("command: %v", o.Err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "point")); strings.TrimSpace(string(b)) != "postRollout" {
		t.Errorf("GANTRY_HOOK_POINT = %q", b)
	}
	bad := spec.Hook{Name: "scan", Command: []string{"sh", "-c", "echo 2 critical vulnerabilities; exit 3"}}
	if o := r.Run(t.Context(), bad, Payload{}); o.Err == nil || !strings.Contains(o.Err.Error(), "exit status 3: 2 critical vulnerabilities") {
		t.Errorf("failing command: %v", o.Err)
	}
	slow := spec.Hook{Name: "slow", Command: []string{"sleep", "30"}, TimeoutSeconds: 1}
	if o := r.Run(t.Context(), slow, Payload{}); o.Err == nil || !strings.Contains(o.Err.Error(), "did not finish within its timeout of 1s") {
		t.Errorf("slow command: %v", o.Err)
	}
}
