package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLI_ServerTakenPort starts gantry server on a port another process
// holds: it fails naming the port and creates nothing.
func TestCLI_ServerTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "new-data")
	_, stderr, code := run(t, nil, "server", "--data", data, "--listen", ln.Addr().String())
	if code != exitError || !strings.Contains(stderr, ln.Addr().String()) || !strings.Contains(stderr, "nothing was created") {
		t.Errorf("server on a taken port: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("server on a taken port created %s (%v)", data, err)
	}
}

// TestCLI_ServerLogJSON checks that --log-format json writes one JSON
// object per line, the start logged once.
func TestCLI_ServerLogJSON(t *testing.T) {
	_, data := startServer(t, "--log-format", "json")
	var started int
	deadline := time.Now().Add(10 * time.Second)
	for started == 0 && time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(data, "server.log"))
		started = 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("server log line is not JSON: %q", line)
			}
			if rec["msg"] == "server started" && rec["level"] == "INFO" && rec["api"] != nil {
				started++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if started != 1 {
		t.Errorf("the log says %d times that the server started, want 1", started)
	}
}
