package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gantry-dev/gantry/internal/loopback"
	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/server"
)

// TestMetrics_activeUsers holds a canary at 50% and sends requests from
// 240 loopback source addresses through the real proxy, in the server's
// process and in a `gantry proxy` process: gantry_active_users estimates,
// per revision, the distinct addresses each served.
func TestMetrics_activeUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real instances")
	}
	t.Run("in process", func(t *testing.T) { checkActiveUsers(t, nil) })
	t.Run("gantry proxy", func(t *testing.T) {
		checkActiveUsers(t, func(o *server.Options) {
			o.ProxyCommand, o.NoProxyStandby = []string{gantryBin, "proxy"}, true
			stopDataPlaneAtEnd(t, o.DataDir)
		})
	})
}

// checkActiveUsers runs TestMetrics_activeUsers on a server with options
// changed by set (nil: none).
func checkActiveUsers(t *testing.T, set func(*server.Options)) {
	e := startServerOpts(t, usersSpec(), set)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := e.c.Deploy(ctx, "web", "prod", "v2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the canary to take 50%", func() bool {
		st, err := e.c.Status(ctx, "web", "prod")
		if err != nil {
			return false
		}
		for _, rs := range st.Revisions {
			if rs.Number == 2 && rs.Traffic.Weight == 50 {
				return true
			}
		}
		return false
	})

	served := sendFromAddrs(t, "http://"+e.srv.ProxyAddr("web", "prod")+"/", 240)
	if len(served["v1"]) == 0 || len(served["v2"]) == 0 {
		t.Fatalf("clients served by version: v1 %d, v2 %d; want both", len(served["v1"]), len(served["v2"]))
	}
	got := map[string]float64{}
	for _, m := range scrape(t, e)["gantry_active_users"].GetMetric() {
		checkUserLabels(t, m)
		got[label(m, "version")] = m.GetGauge().GetValue()
	}
	st, err := e.c.Status(ctx, "web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]float64{}
	for _, rs := range st.Revisions {
		status[rs.Version] = rs.Traffic.ActiveUsers
	}
	for _, v := range []string{"v1", "v2"} {
		want := len(served[v])
		bound := math.Max(1, 3*activeusers.StdError*float64(want))
		if math.Abs(got[v]-float64(want)) > bound {
			t.Errorf("gantry_active_users{version=%q} = %.1f; want %d ± %.0f (all: %v)", v, got[v], want, bound, got)
		}
		if math.Abs(status[v]-float64(want)) > bound {
			t.Errorf("status API: %s has %.1f active users; want %d ± %.0f", v, status[v], want, bound)
		}
		t.Logf("%s: %d clients, %.1f estimated", v, want, got[v])
	}
}

// usersSpec is a canary that stays at 50% for ten minutes, without a
// baseline group, and counts users over a one-minute window.
func usersSpec() string {
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 1
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1, failureThreshold: 3}
  progressDeadlineSeconds: 120
  terminationGracePeriodSeconds: 5
  analysis: {baseline: primary}
  metrics: {activeUsers: {window: 1m}}
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 50
        - pause: {duration: 10m}
environments:
  - name: prod
`, gantryBin)
}

// sendFromAddrs sends two requests from each of n loopback source
// addresses to url and returns, by the version that answered, the
// addresses it served.
func sendFromAddrs(t *testing.T, url string, n int) map[string]map[int]bool {
	t.Helper()
	var mu sync.Mutex
	served := map[string]map[int]bool{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := loopback.Client(loopback.Addr(i))
			defer c.CloseIdleConnections()
			for range 2 {
				v, err := versionAt(c, url)
				if err != nil {
					t.Errorf("client %v: %v", loopback.Addr(i), err)
					return
				}
				mu.Lock()
				if served[v] == nil {
					served[v] = map[int]bool{}
				}
				served[v][i] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return served
}

// versionAt gets url and returns the version the sample workload says answered.
func versionAt(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d, body: %v", resp.StatusCode, err)
	}
	return body.Version, nil
}

// checkUserLabels wants a gantry_active_users series of app web in prod
// whose revision matches its version.
func checkUserLabels(t *testing.T, m *dto.Metric) {
	t.Helper()
	if label(m, "app") != "web" || label(m, "env") != "prod" || "v"+label(m, "revision") != label(m, "version") || label(m, "group") != "" {
		t.Errorf("gantry_active_users labels %v; want app web, env prod, revision N with version vN, no group", m.GetLabel())
	}
}
