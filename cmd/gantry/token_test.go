package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/server"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// runCLI runs the gantry CLI with args and returns its output.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

// TestTokenAndAuditCommands creates a token offline, uses it against a
// server, then edits the audit log in the database and checks
// gantry audit verify names the record.
func TestTokenAndAuditCommands(t *testing.T) {
	t.Setenv("GANTRY_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no user config
	t.Setenv("GANTRY_TOKEN", "")
	t.Setenv("GANTRY_SERVER", "")
	data := t.TempDir()
	s, err := sqlite.Open(t.Context(), filepath.Join(data, "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	out, err := runCLI(t, "token", "create", "--data", data, "--role", "admin", "--env", "*", "--name", "ops", "-o", "json")
	if err != nil {
		t.Fatalf("token create --data: %v\n%s", err, out)
	}
	var created api.TokenCreateResponse
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("token create -o json: %v\n%s", err, out)
	}

	srv, err := server.New(t.Context(), server.Options{DataDir: data, APIAddr: "127.0.0.1:0", StopInstancesOnExit: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	remote := []string{"--server", srv.APIURL(), "--token", created.Secret}

	if out, err := runCLI(t, "token", "list", "--server", srv.APIURL()); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("token list without a token: %v, want an error saying there is no token\n%s", err, out)
	}
	spec := filepath.Join(t.TempDir(), "gantry.yaml")
	os.WriteFile(spec, []byte("apiVersion: gantry.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {workload: {command: /bin/sleep}}\nenvironments: [{name: staging}, {name: production}]\n"), 0o644)
	if out, err := runCLI(t, append([]string{"token", "create", "--role", "deployer", "--env", "nosuchenv"}, remote...)...); err == nil || !strings.Contains(err.Error(), `no applied app has an environment "nosuchenv"`) {
		t.Errorf("token create --env nosuchenv before any apply: %v, want it refused\n%s", err, out)
	}
	if out, err := runCLI(t, append([]string{"apply", "-f", spec}, remote...)...); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	out, err = runCLI(t, append([]string{"token", "create", "--role", "deployer", "--env", "staging", "--env", "production", "--name", "ci", "--expires", "30d"}, remote...)...)
	if err != nil || !strings.Contains(out, "gantry_") || !strings.Contains(out, "deployer on staging, production") {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	out, err = runCLI(t, append([]string{"token", "list"}, remote...)...)
	if err != nil || !strings.Contains(out, "ops") || !strings.Contains(out, "ci") {
		t.Errorf("token list: %v\n%s", err, out)
	}
	id := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "ci" {
			id = f[0]
		}
	}
	if !strings.Contains(out, "expires "+time.Now().Add(30*24*time.Hour).Local().Format(time.DateOnly)) {
		t.Errorf("token list does not show ci expiring in 30 days:\n%s", out)
	}
	if out, err := runCLI(t, append([]string{"token", "revoke", "ci"}, remote...)...); err != nil || !strings.Contains(out, "token ci ("+id+") revoked") {
		t.Errorf("token revoke ci (by name, ID %s): %v\n%s", id, err, out)
	}
	if out, err := runCLI(t, append([]string{"token", "revoke", "ci"}, remote...)...); err == nil || !strings.Contains(err.Error(), `no token with ID or name "ci"`) {
		t.Errorf("token revoke ci a second time: %v, want no such token\n%s", err, out)
	}
	out, err = runCLI(t, append([]string{"audit", "list", "--action", "token.create"}, remote...)...)
	if err != nil || !strings.Contains(out, "ops") || !strings.Contains(out, "201 ok") {
		t.Errorf("audit list: %v\n%s", err, out)
	}
	if out, err := runCLI(t, append([]string{"audit", "verify"}, remote...)...); err != nil || !strings.Contains(out, "intact") {
		t.Errorf("audit verify of an untouched log: %v\n%s", err, out)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "gantry.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, append([]string{"audit", "verify"}, remote...)...)
	if err == nil || !strings.Contains(err.Error(), "record 1: content changed") || !strings.Contains(out, "first bad record is 1") {
		t.Errorf("audit verify after editing record 1: %v, want it to name record 1\n%s", err, out)
	}
}
