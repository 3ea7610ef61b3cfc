package migrate

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// requirePassword makes the cluster check passwords for role over TCP
// (pgtest trusts everyone) and returns a URL for it with password pw.
func requirePassword(t *testing.T, c *pgtest.Cluster, db, role, pw string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD '"+pw+"'"); err != nil {
		t.Fatal(err)
	}
	hba := filepath.Join(c.DataDir, "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	line := "host all " + role + " 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(hba, append([]byte(line), old...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(c.URL(db))
	u.User = url.UserPassword(role, pw)
	// The reload is asynchronous: wait until a wrong password is refused.
	bad := *u
	bad.User = url.UserPassword(role, pw+"-not")
	waitFor(t, func() bool {
		c, err := pgx.Connect(ctx, bad.String())
		if err == nil {
			c.Close(ctx)
		}
		return err != nil
	})
	return u.String()
}

func testBadInputs(t *testing.T, c *pgtest.Cluster) {
	ctx := context.Background()
	goodURL := c.CreateDB(t, "badinputs")
	appURL := requirePassword(t, c, "badinputs", "app", "right-pw")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	wrongPW := strings.Replace(appURL, "right-pw", "wrong-pw-123", 1)
	for _, tc := range []struct {
		name   string
		url    string
		files  map[string]string // added to the fixtures
		is     error
		want   []string
		secret string // must not appear in the message
	}{
		{name: "malformed name", url: goodURL, files: map[string]string{"V4_no_separator.sql": "select 1;"},
			is: ErrBadName, want: []string{"V4_no_separator.sql", "V<version>__<description>.sql"}},
		{name: "lower-case prefix", url: goodURL, files: map[string]string{"v4__x.sql": "select 1;"},
			is: ErrBadName, want: []string{"v4__x.sql", "start with V, U or R"}},
		{name: "duplicate version", url: goodURL, files: map[string]string{"V2.0__Again.sql": "select 1;"},
			is: ErrDuplicate, want: []string{"V2__Orders.sql", "V2.0__Again.sql", "version 2"}},
		{name: "unreachable database", url: "postgres://app:hunter2@127.0.0.1:" + strconv.Itoa(closedPort) + "/x?sslmode=disable&connect_timeout=10",
			want: []string{"connect to postgres://app:xxxxx@127.0.0.1", "server runs"}, secret: "hunter2"},
		{name: "wrong password", url: wrongPW, want: []string{"password", "app:xxxxx@"}, secret: "wrong-pw-123"},
		{name: "wrong password in key=value form", url: "host=127.0.0.1 port=" + strconv.Itoa(c.Port) +
			" user=app dbname=badinputs sslmode=disable password=wrong-pw-456", want: []string{"password=xxxxx"}, secret: "wrong-pw-456"},
		{name: "no such database", url: c.URL("nosuchdb"), want: []string{"nosuchdb", "create the database"}},
		{name: "no URL", url: "", is: ErrNoURL, want: []string{"GANTRY_DATABASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fixtures(t)
			for name, body := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m, err := Open(ctx, Options{URL: tc.url, Locations: []string{dir}})
			if err == nil {
				_, err = m.Migrate(ctx, PlanOptions{})
				m.Close(ctx)
			}
			if err == nil {
				t.Fatal("err = nil, want one")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to mention %q", err, w)
				}
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("err = %v\nshows the password", err)
			}
		})
	}
	t.Run("nothing applied", func(t *testing.T) {
		e := &env{t: t, url: goodURL}
		if got := e.query("SELECT to_regclass('flyway_schema_history')::text"); got != "<null>" {
			t.Errorf("history table = %s after only bad inputs, want none", got)
		}
	})
	t.Run("right password works", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, c.URL("badinputs"))
		if err != nil {
			t.Fatal(err)
		}
		conn.Exec(ctx, "GRANT ALL ON SCHEMA public TO app")
		conn.Close(ctx)
		m, err := Open(ctx, Options{URL: appURL, Locations: []string{fixtures(t)}})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close(ctx)
		if _, err := m.Migrate(ctx, PlanOptions{}); err != nil {
			t.Fatal(err)
		}
		if rows := (&env{t: t, url: goodURL}).history(); rows[0].InstalledBy != "app" {
			t.Errorf("installed_by = %s, want app", rows[0].InstalledBy)
		}
	})
}
