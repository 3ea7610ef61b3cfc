package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// TestServer_secretsByReferenceNeverLeak gives an instance two secrets by
// reference (a file and a variable of the server) and the database URL
// of another environment by file, then greps every byte gantry wrote or
// answered for them: the data directory (state database with its WAL,
// instance records and logs), the server's log and the API's answers.
func TestServer_secretsByReferenceNeverLeak(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fileSecret, envSecret, urlSecret := "pw-"+auth.NewSecret()[4:20], "key-"+auth.NewSecret()[4:20], "dbpw-"+auth.NewSecret()[4:20]
	envVar := "GANTRY_TEST_API_KEY_" + strconv.Itoa(os.Getpid())
	t.Setenv(envVar, envSecret)
	writeFile(t, filepath.Join(dir, "db-password"), fileSecret+"\n")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	writeFile(t, filepath.Join(dir, "db-url"), "postgres://app:"+urlSecret+"@"+closed+"/app?sslmode=disable&connect_timeout=5\n")
	migrations := filepath.Join(dir, "migrations")
	os.Mkdir(migrations, 0o700)

	specText := fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 2
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
    env:
      - name: DB_PASSWORD
        valueFrom: {secretFile: %s}
      - name: API_KEY
        valueFrom: {serverEnv: %s}
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  progressDeadlineSeconds: 60
  terminationGracePeriodSeconds: 5
environments:
  - name: prod
    proxy: {listen: "127.0.0.1:0"}
  - name: staging
    proxy: {listen: "127.0.0.1:0"}
    database:
      url: {valueFrom: {secretFile: %s}}
      migrations: %s
      backupDir: %s
`, gantryBin, filepath.Join(dir, "db-password"), envVar, filepath.Join(dir, "db-url"), migrations, filepath.Join(dir, "backups"))

	data := filepath.Join(dir, "data")
	var logs lockedLog
	e := startBareServer(t, server.Options{DataDir: data, Logf: logs.logf(t), Backups: server.BackupSchedule{Disabled: true}}, specText)
	if r := e.deploy(t, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("prod rollout ended %s: %s", r.Phase, r.Message)
	}
	// The instances got the values, read when they started.
	insts := e.srv.Instances("web", "prod")
	if len(insts) == 0 {
		t.Fatal("no instances in prod")
	}
	for _, in := range insts {
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", in.PID))
		if err != nil {
			t.Fatalf("instance %s: %v", in.ID, err)
		}
		for _, want := range []string{"DB_PASSWORD=" + fileSecret, "API_KEY=" + envSecret} {
			if !bytes.Contains(environ, []byte(want+"\x00")) {
				t.Errorf("instance %s was not given %s", in.ID, strings.SplitN(want, "=", 2)[0])
			}
		}
	}
	// staging's database is unreachable: its rollout fails on the URL
	// read from the file, and says so in events.
	ro, err := e.c.Deploy(ctx, "web", "staging", "v1")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if ro, err = e.c.WaitRollout(wctx, ro.ID, 100*time.Millisecond, nil); err != nil || ro.Phase != rollout.RolledBack {
		t.Fatalf("staging rollout: %s %v; want RolledBack (unreachable database)", ro.Phase, err)
	}

	var seen bytes.Buffer
	for _, path := range []string{"/api/v1/apps", "/api/v1/apps/web", "/api/v1/audit"} {
		_, _, body := rawGet(t, e.srv.APIURL(), path, testToken)
		seen.WriteString(body)
	}
	for _, env := range []string{"prod", "staging"} {
		for _, what := range []string{"status", "rollouts", "revisions", "events"} {
			_, _, body := rawGet(t, e.srv.APIURL(), "/api/v1/apps/web/environments/"+env+"/"+what, testToken)
			seen.WriteString(body)
		}
	}
	api := seen.String()
	for _, want := range []string{`"secretFile":"` + filepath.Join(dir, "db-password"), `"serverEnv":"` + envVar, "xxxxx@" + closed} {
		if !strings.Contains(strings.ReplaceAll(api, " ", ""), want) {
			t.Errorf("the API answers do not show %s: the references (and the redacted URL) should be there", want)
		}
	}
	files := 0
	err = filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		seen.WriteString("\n" + path + "\n")
		seen.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen.WriteString(logs.String())
	if files < 3 || !strings.Contains(seen.String(), "gantry.db-wal") {
		t.Fatalf("read %d files under %s; want the database, its WAL and the logs", files, data)
	}
	for name, secret := range map[string]string{"the secret file's value": fileSecret, "the server variable's value": envSecret, "the database password": urlSecret} {
		if i := strings.Index(seen.String(), secret); i >= 0 {
			t.Errorf("%s appears in what gantry stored, logged or answered: ...%s...", name, seen.String()[max(0, i-200):i])
		}
	}
}
