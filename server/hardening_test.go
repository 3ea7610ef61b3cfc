package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/server"
)

// twoEnvSpec is appSpec with a staging environment after prod.
func twoEnvSpec() string {
	return appSpec("127.0.0.1:0", 60) + "  - name: staging\n    proxy: {listen: \"127.0.0.1:0\"}\n"
}

// tokenClient creates a token with role on envs and returns a client using it.
func tokenClient(t *testing.T, e *env, name string, role auth.Role, envs ...string) *client.Client {
	t.Helper()
	res, err := e.c.CreateToken(context.Background(), api.TokenCreateRequest{Name: name, Role: role, Envs: envs})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Options{Server: e.srv.APIURL(), Actor: name, Token: res.Secret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServer_applyNeedsTheRoleOnEveryEnvironment(t *testing.T) {
	ctx := context.Background()
	e := startBareServer(t, server.Options{Backups: server.BackupSchedule{Disabled: true}}, twoEnvSpec())
	stagingCI := tokenClient(t, e, "staging-ci", auth.Deployer, "staging")
	before, err := e.c.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onlyStaging := strings.Replace(twoEnvSpec(), "  - name: prod\n    proxy: {listen: \"127.0.0.1:0\"}\n", "", 1)
	for _, tc := range []struct{ name, spec, want string }{
		{"drop production", onlyStaging, "apply web (it drops environment prod) needs role deployer on environment prod"},
		{"change a shared field", strings.Replace(twoEnvSpec(), "replicas: 3", "replicas: 1", 1),
			"apply web (it changes environment prod) needs role deployer on environment prod"},
		{"change only staging", twoEnvSpec() + "    replicas: 1\n", "apply web (it keeps environment prod) needs role deployer on environment prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stagingCI.Apply(ctx, "gantry.yaml", []byte(tc.spec))
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Status != http.StatusForbidden || !strings.Contains(ce.Body.Message, tc.want) {
				t.Fatalf("apply by a staging-only token: %v; want 403 saying %q", err, tc.want)
			}
			after, err := e.c.Apps(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(after[0].Spec)
			b, _ := json.Marshal(before[0].Spec)
			if string(a) != string(b) {
				t.Errorf("the stored spec changed after a refused apply:\n%s\nwant\n%s", a, b)
			}
		})
	}
	both := tokenClient(t, e, "lead", auth.Deployer, "staging", "prod")
	if _, err := both.Apply(ctx, "gantry.yaml", []byte(onlyStaging)); err != nil {
		t.Fatalf("apply dropping prod by a deployer on both: %v", err)
	}
	if apps, _ := e.c.Apps(ctx); len(apps) != 1 || strings.Join(apps[0].Environments, ",") != "staging" {
		t.Errorf("apps after the allowed apply = %+v, want only staging", apps)
	}
}

// rawGet sends GET path with token and returns the status, headers and body.
func rawGet(t *testing.T, base, path, token string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestServer_failedAuthenticationsAreLimitedAndAuditedInAggregate(t *testing.T) {
	ctx := context.Background()
	const window, limit, flood = 3 * time.Second, 5, 300
	e := startBareServer(t, server.Options{Backups: server.BackupSchedule{Disabled: true}, AuthLimit: api.AuthLimit{Failures: limit, Window: window}},
		appSpec("127.0.0.1:0", 60))
	// The flood comes from 127.0.0.2; the admin's client, from 127.0.0.1,
	// is another source and is never held back by it.
	flooder := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
	base := e.srv.APIURL()
	codes := map[int]int{}
	retryAfter := ""
	start := time.Now()
	for i := 0; i < flood; i++ {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/apps/web/environments/prod/deploy", strings.NewReader(`{"version":"v9"}`))
		req.Header.Set("Authorization", "Bearer gnt_wrong"+strconv.Itoa(i))
		resp, err := flooder.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && retryAfter == "" {
			retryAfter = resp.Header.Get("Retry-After")
		}
	}
	elapsed := time.Since(start)
	windows := int(elapsed/window) + 2 // the flood may straddle window boundaries
	if codes[http.StatusUnauthorized] < limit || codes[http.StatusUnauthorized] > limit*windows || codes[http.StatusTooManyRequests] == 0 ||
		codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != flood {
		t.Errorf("answers to %d wrong tokens: %v; want %d × 401 per window, then 429", flood, codes, limit)
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 || n > int(window/time.Second) {
		t.Errorf("Retry-After = %q, want 1 to %d seconds", retryAfter, int(window/time.Second))
	}
	if _, err := e.c.Apps(ctx); err != nil {
		t.Errorf("the admin, from another address, during the flood: %v", err)
	}

	// When the window has ended its aggregate record is written.
	aggregate := regexp.MustCompile(`^(\d+) more failed authentication\(s\) and (\d+) request\(s\) refused with 429 \(over 5 failures\) from 127\.0\.0\.2 `)
	var records []audit.Record
	deadline := time.Now().Add(time.Minute)
	for {
		var err error
		records, err = e.c.Audit(ctx, client.AuditQuery{})
		failed, refused := 0, 0
		for _, r := range records {
			if m := aggregate.FindStringSubmatch(r.Message); r.Action == api.ActionAuthFailed && m != nil {
				f, _ := strconv.Atoi(m[1])
				n, _ := strconv.Atoi(m[2])
				failed, refused = failed+f, refused+n
			} else if r.Status == http.StatusUnauthorized && strings.HasPrefix(r.RemoteAddr, "127.0.0.2:") {
				failed++
			}
		}
		if err == nil && failed == codes[http.StatusUnauthorized] && refused == codes[http.StatusTooManyRequests] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit accounts for %d × 401 and %d × 429 of %v after a minute (err %v); records: %+v", failed, refused, codes, err, records)
		}
		time.Sleep(200 * time.Millisecond)
	}
	denied := 0
	for _, r := range records {
		if r.Outcome == "denied" {
			denied++
		}
	}
	if denied > 2*windows {
		t.Errorf("%d audit records for %d failed authentications over %d window(s); want at most 2 per window", denied, flood, windows)
	}
	if rep, err := e.c.VerifyAudit(ctx); err != nil || len(rep.Problems) != 0 {
		t.Errorf("audit chain after the flood: %+v, %v", rep, err)
	}
}

func TestServer_logsRefusesABadInstanceName(t *testing.T) {
	data := t.TempDir()
	e := startBareServer(t, server.Options{DataDir: data, Backups: server.BackupSchedule{Disabled: true}}, appSpec("127.0.0.1:0", 60))
	abs, _ := filepath.Abs(data)
	for _, name := range []string{strings.Repeat("a", 300), "web-prod-1-x\x00y", "-rf", "web%2Fprod", "a..b"} {
		status, _, body := rawGet(t, e.srv.APIURL(), "/api/v1/apps/web/environments/prod/instances/"+url.PathEscape(name)+"/logs", testToken)
		if status != http.StatusBadRequest || !strings.Contains(body, "is not valid") || !strings.Contains(body, "gantry status web --env prod") {
			t.Errorf("logs of %.20q: %d %s; want 400 saying the name is not valid", name, status, body)
		}
		if strings.Contains(body, abs) {
			t.Errorf("logs of %.20q shows the data path: %s", name, body)
		}
	}
	if status, _, body := rawGet(t, e.srv.APIURL(), "/api/v1/apps/web/environments/prod/instances/web-prod-1-nosuch/logs", testToken); status != http.StatusNotFound || strings.Contains(body, abs) {
		t.Errorf("logs of an unknown instance: %d %s; want 404 without the data path", status, body)
	}
}

// looseModes lists what under dir group or others may access.
func looseModes(t *testing.T, dir string) []string {
	t.Helper()
	var loose []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if (d.IsDir() || info.Mode().IsRegular()) && info.Mode().Perm()&0o077 != 0 {
			loose = append(loose, fmt.Sprintf("%s %v", path, info.Mode().Perm()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return loose
}

func TestServer_dataFileModes(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	// A data directory made earlier, by hand or an older gantry, with loose modes.
	if err := os.MkdirAll(filepath.Join(data, "logs", "web", "prod"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(data, "logs", "web", "prod", "web-prod-1-old.log")
	if err := os.WriteFile(old, []byte("DB_PASSWORD=hunter2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755)
	var logs lockedLog
	e := startBareServer(t, server.Options{DataDir: data, Logf: logs.logf(t), Backups: server.BackupSchedule{Disabled: true}}, appSpec("127.0.0.1:0", 60))
	e.deploy(t, "v1")
	if n := len(e.srv.Instances("web", "prod")); n == 0 {
		t.Fatal("no instances after deploy")
	}
	for _, want := range []string{"gantry.db", "gantry.db-wal", "logs/web/prod", "instances"} {
		if _, err := os.Stat(filepath.Join(data, want)); err != nil {
			t.Errorf("%s: %v; the test expects it to exist", want, err)
		}
	}
	if loose := looseModes(t, data); len(loose) > 0 {
		t.Errorf("readable by group or others under the data directory:\n%s", strings.Join(loose, "\n"))
	}
	if !strings.Contains(logs.String(), "took group and other permissions off") {
		t.Errorf("the server did not say it tightened the old directory; log:\n%s", logs.String())
	}
}

// lockedLog collects a server's log lines and passes them to t.Logf.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) logf(t *testing.T) func(string, ...any) {
	return func(format string, args ...any) {
		l.mu.Lock()
		fmt.Fprintf(&l.b, format+"\n", args...)
		l.mu.Unlock()
		t.Logf(format, args...)
	}
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
