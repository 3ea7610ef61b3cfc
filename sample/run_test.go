package sample

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// start runs the sample in-process on a free port and returns its base URL.
func start(t *testing.T, version string) string {
	t.Helper()
	v, knobs, err := SplitVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Listener: ln, Version: v, Instance: "test-1", Knobs: knobs, Log: io.Discard})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestRun_Health(t *testing.T) {
	tests := []struct {
		version    string
		wantStatus string
		wantCheck  string
		wantOutput string
	}{
		{"v2", "pass", "pass", ""},
		{"v2+db-down", "warn", "fail", "connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			url := start(t, tt.version)
			code, h, body := get(t, url+"/health")
			if code != http.StatusOK {
				t.Errorf("status %d, want 200 (alive)", code)
			}
			if ct := h.Get("Content-Type"); ct != "application/health+json" {
				t.Errorf("Content-Type %q, want application/health+json", ct)
			}
			var got healthResponse
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			checks := got.Checks["database:connection"]
			if got.Status != tt.wantStatus || got.Version != "v2" || len(checks) != 1 || checks[0].Status != tt.wantCheck {
				t.Fatalf("got %+v, want status %s, version v2, database check %s", got, tt.wantStatus, tt.wantCheck)
			}
			if !strings.Contains(checks[0].Output, tt.wantOutput) || (tt.wantOutput == "") != (checks[0].Output == "") {
				t.Errorf("check output %q, want it to contain %q", checks[0].Output, tt.wantOutput)
			}
		})
	}
}

func TestRun_DBDown(t *testing.T) {
	url := start(t, "v3+db-down")
	if code, _, body := get(t, url+"/ready"); code != http.StatusOK {
		t.Errorf("/ready = %d %q, want 200: the process itself is ready", code, body)
	}
	if code, _, body := get(t, url+"/db"); code != http.StatusServiceUnavailable || !strings.Contains(body, "connection refused") {
		t.Errorf("/db = %d %q, want 503 naming the refused connection", code, body)
	}
	if code, _, _ := get(t, url+"/"); code != http.StatusOK {
		t.Errorf("/ = %d, want 200", code)
	}
}

func TestRun_Endpoints(t *testing.T) {
	tests := []struct {
		version  string
		path     string
		wantCode int
		wantBody string
	}{
		{"v1", "/", 200, `"path":"/"`},
		{"v1", "/orders/7", 200, `"version":"v1"`},
		{"v1", "/ready", 200, "ready"},
		{"v1+never-ready", "/ready", 503, "never-ready"},
		{"v1+slow-start=1h", "/ready", 503, "slow-start"},
		{"v1+errors=1", "/", 500, "errors knob"},
		{"v1+errors=1", "/health", 200, `"status":"pass"`},
		{"v1+latency=10ms", "/x", 200, `"path":"/x"`},
	}
	for _, tt := range tests {
		t.Run(tt.version+tt.path, func(t *testing.T) {
			code, _, body := get(t, start(t, tt.version)+tt.path)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestRun_Echo(t *testing.T) {
	url := start(t, "v1")
	resp, err := http.Post(url+"/echo", "text/plain", strings.NewReader("hello gantry"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got := string(b); got != "hello gantry" {
		t.Errorf("echo = %q, want %q", got, "hello gantry")
	}
}

func TestRun_CrashAfter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), Config{Listener: ln, Version: "v1", Knobs: Knobs{CrashAfter: 50 * time.Millisecond}, Log: io.Discard})
	if !errors.Is(err, ErrCrash) {
		t.Errorf("Run = %v, want ErrCrash", err)
	}
	err = Run(context.Background(), Config{Port: 1, Version: "v1", Knobs: Knobs{CrashAtStart: true}, Log: io.Discard})
	if !errors.Is(err, ErrCrash) {
		t.Errorf("Run with crash-at-start = %v, want ErrCrash", err)
	}
}
