package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// strategyApps are one app per strategy, each on its own proxy address.
func strategyApp(name, strategy, listen string) string {
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: %s}
spec:
  replicas: 2
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  progressDeadlineSeconds: 120
  terminationGracePeriodSeconds: 3
  strategy:
%s
environments:
  - name: prod
    proxy: {listen: %q}
`, name, gantryBin, strategy, listen)
}

var dataPlaneStrategies = map[string]string{
	"rolling":   "    type: RollingUpdate",
	"canary":    "    type: Canary\n    canary:\n      steps:\n        - setWeight: 20\n        - pause: {duration: 3s}\n        - setWeight: 50\n        - pause: {duration: 3s}",
	"bluegreen": "    type: BlueGreen\n    blueGreen:\n      scaleDownDelaySeconds: 8",
}

// stopDataPlaneAtEnd stops the data plane process of dataDir and its
// standby (first: it would take over) when the test ends (the servers of
// these tests are killed, not stopped).
func stopDataPlaneAtEnd(t *testing.T, dataDir string) {
	t.Cleanup(func() {
		standby := dataplane.NewClient(filepath.Join(dataDir, dataplane.StandbyFile))
		if l, err := standby.Check(context.Background()); err == nil && l.Standby != nil {
			syscall.Kill(l.Boot.PID, syscall.SIGKILL)
		}
		if r, err := dataplane.ReadRecord(dataDir); err == nil && r.PID > 0 {
			if t.Failed() && syscall.Kill(r.PID, syscall.SIGQUIT) == nil {
				time.Sleep(500 * time.Millisecond) // its goroutines go to its log
			}
			syscall.Kill(r.PID, syscall.SIGKILL)
		}
		if b, err := os.ReadFile(filepath.Join(dataDir, dataplane.LogFile)); err == nil && t.Failed() {
			t.Logf("%s:\n%s", dataplane.LogFile, b)
		}
	})
}

// dataPlaneServer starts `gantry server` (with extra flags) on a new data
// directory, to be killed or stopped by the test: its instances and its
// data plane are stopped when the test ends.
func dataPlaneServer(t *testing.T, extra ...string) (data string, srv *serverProc, c *client.Client) {
	t.Helper()
	killInstancesAtEnd(t)
	data = t.TempDir()
	stopDataPlaneAtEnd(t, data)
	srv = startServerProc(t, data, freeAddr(t), extra...)
	return data, srv, serverClient(t, srv)
}

// serverClient is an admin client of srv.
func serverClient(t *testing.T, srv *serverProc) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{Server: srv.url, Token: srv.token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// proxyTotal is the requests the proxy counted for app/prod, over every revision.
func proxyTotal(ctx context.Context, t *testing.T, c *client.Client, app string) uint64 {
	t.Helper()
	st, err := c.Status(ctx, app, "prod")
	if err != nil {
		t.Fatalf("status of %s: %v", app, err)
	}
	n := st.Unrouted
	for _, r := range st.Revisions {
		n += r.Traffic.Requests
	}
	return n
}

// TestDataPlane_UpgradeAndCrashUnderLoad replaces the data plane with
// `gantry proxy upgrade` under load, GANTRY_UPGRADES times (default 2) at
// GANTRY_UPGRADE_RATE requests/s (default 300; bench/proxy-upgrade.sh runs
// 10 at 1,000/s): no request fails, the rollout engine sees the new boot
// ID; then it kills it with SIGKILL: the server starts a new one, records
// DataPlaneDown and DataPlaneRestarted, and traffic flows again.
func TestDataPlane_UpgradeAndCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes under load")
	}
	upgrades, rate := envInt(t, "GANTRY_UPGRADES", 2), envInt(t, "GANTRY_UPGRADE_RATE", 300)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(4+upgrades/10)*time.Minute)
	defer cancel()
	data, srv, c := dataPlaneServer(t, "--stop-instances-on-exit")
	addr := freeAddr(t)
	applyRollingV1(ctx, t, c, addr)
	before, _ := dataplane.ReadRecord(data)

	loadCtx, stopLoad := context.WithCancel(ctx)
	began := time.Now()
	l := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + addr + "/", Rate: rate, Workers: 32})
	time.Sleep(time.Second)
	for i := range upgrades {
		failed, start := l.Failed(), time.Now()
		out, err := runGantry(ctx, "proxy", "upgrade", "--data", data)
		if err != nil {
			t.Fatalf("gantry proxy upgrade: %v\n%s", err, out)
		}
		t.Logf("upgrade %d: %s in %s; %d requests failed meanwhile", i+1, strings.TrimSpace(out), time.Since(start).Round(time.Millisecond), l.Failed()-failed)
		time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
	}
	time.Sleep(time.Second)
	stopLoad()
	l.Wait()
	took := time.Since(began)
	if l.Failed() != 0 || l.Total() == 0 {
		t.Errorf("upgrades under load: %d of %d requests failed (last: %s), want none", l.Failed(), l.Total(), l.LastError())
	}
	t.Logf("table: upgrades %d; requests %d in %s (%.0f/s); failed %d", upgrades, l.Total(), took.Round(time.Second), float64(l.Total())/took.Seconds(), l.Failed())
	after, _ := dataplane.ReadRecord(data)
	if after.PID == before.PID || after.BootID == before.BootID || alive(before.PID) {
		t.Errorf("after the upgrades: data plane %+v (before %+v, alive %v); want a new process, the old one gone", after, before, alive(before.PID))
	}
	st := waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.State == "Up" && dp.Boot == after.BootID })
	t.Logf("after the upgrades: %+v", st)

	// A crash: the server starts a new data plane and sends it the tables.
	if err := syscall.Kill(after.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.State == "Up" && dp.Boot != after.BootID && dp.Restarts == 1 })
	l2ctx, stop2 := context.WithCancel(ctx)
	l2 := loadgen.Start(l2ctx, loadgen.Options{URL: "http://" + addr + "/", Rate: 100})
	time.Sleep(time.Second)
	stop2()
	l2.Wait()
	if l2.Failed() != 0 || l2.Total() == 0 {
		t.Errorf("after the data plane's restart: %d of %d requests failed (last: %s)", l2.Failed(), l2.Total(), l2.LastError())
	}
	events, err := c.Events(ctx, "web", "prod", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A warm standby may take over before the server sees the data plane
	// down (within a millisecond): then DataPlaneRestarted, saying so, is
	// the only event; when the server restarted it, DataPlaneDown comes first.
	var down bool
	var restarted *rollout.Event
	for i, e := range events {
		down = down || e.Reason == rollout.ReasonDataPlaneDown
		if e.Reason == rollout.ReasonDataPlaneRestarted {
			restarted = &events[i]
		}
	}
	switch {
	case restarted == nil:
		t.Errorf("events after the crash: no DataPlaneRestarted (DataPlaneDown %v)", down)
	case restarted.Details == nil || restarted.Details.DataPlane == nil:
		t.Errorf("DataPlaneRestarted without its typed facts: %+v", restarted)
	case !restarted.Details.DataPlane.Standby && !down:
		t.Errorf("the server restarted the data plane (no standby took over) but recorded no DataPlaneDown before: %s", restarted.Message)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
	if r, err := dataplane.ReadRecord(data); err == nil && alive(r.PID) {
		t.Errorf("the data plane (pid %d) still runs after a server started with --stop-instances-on-exit stopped", r.PID)
	}
}

// waitDataPlane polls web/prod's status until its data plane satisfies ok.
func waitDataPlane(ctx context.Context, t *testing.T, c *client.Client, ok func(*api.DataPlane) bool) *api.DataPlane {
	t.Helper()
	var last *api.DataPlane
	for ctx.Err() == nil {
		st, err := c.Status(ctx, "web", "prod")
		if err == nil && st.DataPlane != nil {
			if last = st.DataPlane; ok(last) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("data plane never reached the wanted state; last %+v", last)
	return nil
}

// runGantry runs the gantry binary with args and returns its output.
func runGantry(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, gantryBin, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// envInt reads a positive count from the environment variable name; 1
// when it is unset.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive count", name, v)
	}
	return n
}

// applyRollingV1 applies app web (rolling, its proxy on addr) and rolls
// out v1, failing the test unless it succeeds.
func applyRollingV1(ctx context.Context, t *testing.T, c *client.Client, addr string) rollout.Rollout {
	t.Helper()
	if _, err := c.Apply(ctx, "web.yaml", []byte(strategyApp("web", dataPlaneStrategies["rolling"], addr))); err != nil {
		t.Fatal(err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err == nil {
		r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil)
	}
	if err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s", err, r.Phase)
	}
	return r
}
