package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCLI_VersionGrammar checks that the CLI and the API refuse versions
// outside the grammar (rollout.CheckVersion) before any rollout starts,
// and that history says a pruned revision was pruned.
func TestCLI_VersionGrammar(t *testing.T) {
	env, _ := startServer(t)
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 1, "  revisionHistoryLimit: 1\n"))
	for _, tt := range []struct{ version, says string }{
		{"v9 beta", "a space at character 3"},
		{"../../etc/passwd", "path separator '/'"},
		{strings.Repeat("x", 100<<10), "102400 characters long"},
	} {
		_, stderr, code := run(t, env, "deploy", "web", "--version", tt.version)
		if code != exitError || !strings.Contains(stderr, "--version: version") || !strings.Contains(stderr, tt.says) {
			t.Errorf("deploy --version %.20q: exit %d, stderr %.300q; want 1 and %q", tt.version, code, stderr, tt.says)
		}
	}
	// The API refuses them too: a client other than the CLI gets a 400.
	url, token := envValue(env, "GANTRY_SERVER"), envValue(env, "GANTRY_TOKEN")
	for _, v := range []string{"v1\x00", strings.Repeat("y", 500<<10), "a/b"} {
		body, _ := json.Marshal(map[string]string{"version": v})
		req, _ := http.NewRequest("POST", url+"/api/v1/apps/web/environments/prod/deploy", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "a version holds only letters") && !strings.Contains(string(msg), "at most 128") {
			t.Errorf("POST deploy %.20q: %d %.300s; want 400 naming the grammar", v, resp.StatusCode, msg)
		}
	}
	if out := mustRun(t, env, "rollout", "history", "web"); strings.Contains(out, "ROLLOUT") && strings.Count(out, "\n") > 1 {
		t.Errorf("refused deploys left rollouts behind:\n%s", out)
	}

	// Three deploys with revisionHistoryLimit 1: revision 1 is pruned.
	for _, v := range []string{"v1", "v2", "v3"} {
		mustRun(t, env, "deploy", "web", "--version", v, "--wait")
	}
	out := mustRun(t, env, "rollout", "history", "web")
	if !strings.Contains(out, "1 (pruned)") || strings.Contains(out, "1 ()") || !strings.Contains(out, "3 (v3)") {
		t.Errorf("history does not say revision 1 was pruned:\n%s", out)
	}
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}
