package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/daemontest"
)

// startAlertmanager runs Debian's Alertmanager, which routes every alert
// to the webhook at hook, until the test ends; it returns its base URL.
func startAlertmanager(t *testing.T, hook string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if bin, err = exec.LookPath("alertmanager"); err != nil {
			t.Skip("Alertmanager is not installed (Debian: apt-get install prometheus-alertmanager; .ci/run installs it): skipping the delivery to a real Alertmanager")
		}
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route: {receiver: hook, group_by: [alertname], group_wait: 0s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: hook
    webhook_configs: [{url: %q, send_resolved: true}]
`, hook)
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := daemontest.FreeAddr(t)
	base := "http://" + addr
	daemontest.Start(t, dir, bin, []string{"--config.file=" + cfgPath, "--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--cluster.listen-address=", "--log.level=warn"}, base)
	return base
}

// TestAlertmanager_receivesAndResolves sends an alert to a real
// Alertmanager through its v2 API: Alertmanager lists it active and
// notifies its own webhook that it fires, then that it resolved.
func TestAlertmanager_receivesAndResolves(t *testing.T) {
	hook := newReceiver(t)
	am := startAlertmanager(t, hook.URL+"/am")
	n := start(t, "receivers:\n- name: am\n  alertmanager: {url: \""+am+"\"}\nroute: {alerts: [am]}\n")
	now := time.Now().UTC().Truncate(time.Second)
	firing := alert("firing")
	firing.StartsAt = now
	n.Alerts(now, []Alert{firing}, []Alert{firing})

	got := hook.wait(t, 1)[0].decoded
	if got["status"] != "firing" || !strings.Contains(fmt.Sprint(got["commonLabels"]), "alertname:HighErrorRate") {
		t.Fatalf("alertmanager's webhook: %v", got)
	}
	resp, err := http.Get(am + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		Labels map[string]string      `json:"labels"`
		Status struct{ State string } `json:"status"`
	}
	err = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if err != nil || len(listed) != 1 || listed[0].Labels["version"] != "v2" || listed[0].Status.State != "active" {
		t.Fatalf("GET /api/v2/alerts: %+v %v", listed, err)
	}

	resolved := alert("resolved")
	resolved.StartsAt, resolved.EndsAt = now, time.Now().UTC()
	n.Alerts(resolved.EndsAt, nil, []Alert{resolved})
	for i := 2; ; i++ {
		if last := hook.wait(t, i)[i-1].decoded; last["status"] == "resolved" {
			break
		}
	}
}
