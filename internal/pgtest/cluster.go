package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is the database superuser of every cluster; it needs no password.
const User = "postgres"

// RequireEnv names the environment variable that, set to 1, turns a skip
// for missing PostgreSQL programs into a test failure (CI sets it).
const RequireEnv = "GANTRY_REQUIRE_POSTGRES"

// startTimeout bounds how long Start waits for the server to accept
// connections; generous because the machine may be busy.
const startTimeout = 2 * time.Minute

// Cluster is a running PostgreSQL server owned by one test. It is stopped
// and its files removed when the test ends.
type Cluster struct {
	// Host is the address the server listens on: 127.0.0.1.
	Host string
	// Port is the TCP port the server listens on.
	Port int
	// DataDir is the cluster's data directory.
	DataDir string
	// SocketDir holds the server's unix socket.
	SocketDir string
	// Version is what `postgres --version` printed, such as "postgres (PostgreSQL) 15.8".
	Version string

	cmd       *exec.Cmd
	exited    chan struct{}
	logPath   string
	removeDir string // removed by Stop: Launch's temporary directory
}

// Start runs a new PostgreSQL cluster for t and stops it in t.Cleanup. It
// skips t when the PostgreSQL programs (or, as root, the postgres OS user)
// are missing, unless GANTRY_REQUIRE_POSTGRES=1.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c, err := launch(t.TempDir())
	if errors.Is(err, ErrUnavailable) {
		skipOrFail(t, err.Error())
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// ErrUnavailable marks a Launch that could not start because the
// PostgreSQL programs (or, as root, the postgres OS user) are missing.
var ErrUnavailable = errors.New("PostgreSQL unavailable")

// Launch runs a new PostgreSQL cluster in a new temporary directory, for
// programs other than tests (benchmarks). The caller must Stop it. An
// error wrapping ErrUnavailable says PostgreSQL is not installed.
func Launch() (*Cluster, error) {
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("make cluster directory: %w", err)
	}
	dir := root + "/cluster"
	if err := os.Mkdir(dir, 0o700); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("make cluster directory: %w", err)
	}
	c, err := launch(dir)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	c.removeDir = root
	return c, nil
}

// launch initializes a cluster in dir/data and starts it.
func launch(dir string) (*Cluster, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	cred, err := runAs()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	version, err := exec.Command(bin+"/postgres", "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("run %s/postgres --version: %w", bin, err)
	}

	dataDir := dir + "/data"
	if err := prepareDirs(cred, dir, dataDir); err != nil {
		return nil, err
	}
	// A unix socket path is limited to about 100 bytes, and t.TempDir's
	// names can be long: keep the socket in a short directory of its own.
	sockDir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, fmt.Errorf("make socket directory: %w", err)
	}
	if err := chown(cred, sockDir); err != nil {
		os.RemoveAll(sockDir)
		return nil, err
	}

	if err := initdb(bin, cred, dataDir, dir+"/initdb.log"); err != nil {
		os.RemoveAll(sockDir)
		if cred != nil {
			return nil, fmt.Errorf("%v\n(as root, pgtest runs PostgreSQL as user %s, which must be able to reach %s; if it cannot, set TMPDIR to a directory every user can traverse, such as /tmp)", err, osUser, dataDir)
		}
		return nil, err
	}

	c := &Cluster{
		Host:      "127.0.0.1",
		DataDir:   dataDir,
		SocketDir: sockDir,
		Version:   strings.TrimSpace(string(version)),
		logPath:   dir + "/postgres.log",
	}
	// A free port can be taken by someone else between our probe and the
	// server's bind; try a few.
	for attempt := 1; ; attempt++ {
		err = c.start(bin, cred)
		if err == nil {
			return c, nil
		}
		if attempt == 3 || !strings.Contains(c.logTail(), "could not bind") {
			os.RemoveAll(sockDir)
			return nil, err
		}
	}
}

// URL returns a postgres:// URL for database dbname over TCP, as the
// superuser, with TLS off.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(User),
		Host:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDB creates an empty database called name and returns its URL.
func (c *Cluster) CreateDB(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := c.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return url
}

// CreateDatabase creates an empty database called name and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %q: %w", name, err)
	}
	return c.URL(name), nil
}

// start launches postgres on a fresh free port and waits until it accepts
// connections.
func (c *Cluster) start(bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.Port = port
	logf, err := os.Create(c.logPath)
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin+"/postgres",
		"-D", c.DataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses="+c.Host,
		"-c", "unix_socket_directories="+c.SocketDir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB",
		"-c", "max_connections=100",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	c.cmd, c.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		if err := c.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited while starting (%v); its log ends:\n%s", cmd.ProcessState, c.logTail())
		case <-ctx.Done():
			c.stop()
			return fmt.Errorf("postgres did not accept connections within %v; its log ends:\n%s", startTimeout, c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop shuts the server down fast (SIGINT), then, if it lingers, kills its
// whole process group, and removes the socket directory (and, after
// Launch, the cluster's files).
func (c *Cluster) Stop() {
	c.stop()
	os.RemoveAll(c.SocketDir)
	if c.removeDir != "" {
		os.RemoveAll(c.removeDir)
	}
}

func (c *Cluster) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
		return
	case <-time.After(time.Minute):
	}
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.exited
}

// logTail returns the last few KiB of the server's log.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

func initdb(bin string, cred *syscall.Credential, dataDir, logPath string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create initdb log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin+"/initdb",
		"-D", dataDir,
		"-U", User,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("initdb %s: %w\n%s", dataDir, err, b)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cleanEnv is the environment without PG* variables, which would steer
// initdb and postgres away from the temporary cluster.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("pgtest: %s (%s=1 requires PostgreSQL)", msg, RequireEnv)
	}
	t.Skipf("pgtest: %s; skipping (set %s=1 to fail instead)", msg, RequireEnv)
}

var errNoBinaries = errors.New("PostgreSQL programs (initdb, postgres) not found on PATH nor in /usr/lib/postgresql/*/bin; install them, for example `apt-get install postgresql`")
