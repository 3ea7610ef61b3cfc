package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestServer_LogOncePerFact reads the JSON server logs of a real run: two
// rollouts on one server, which stops and leaves its instances running,
// then a second server on the same data that adopts them. Each rollout's
// start and end, each adoption, each server's leadership and shutdown is
// logged exactly once, and no line is a repeat of another.
func TestServer_LogOncePerFact(t *testing.T) {
	data := t.TempDir()
	env, stop := launchServer(t, data, "first.log", "--log-format", "json")
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 2, ""))
	mustRun(t, env, "deploy", "web", "--version", "v1", "--wait")
	mustRun(t, env, "deploy", "web", "--version", "v2", "--wait")
	var ids struct {
		Revisions []struct{ Instances []struct{ ID string } }
	}
	json.Unmarshal([]byte(mustRun(t, env, "rollout", "status", "web", "-o", "json")), &ids)
	stop()

	env, stop = launchServer(t, data, "second.log", "--log-format", "json", "--stop-instances-on-exit")
	mustRun(t, env, "rollout", "status", "web")
	stop()

	first := readLog(t, filepath.Join(data, "first.log"))
	second := readLog(t, filepath.Join(data, "second.log"))
	for _, c := range []struct {
		log   []map[string]any
		msg   string
		attrs []string // key=value; a value's prefix is enough
		want  int
	}{
		{first, "server started", nil, 1},
		{first, "leading", nil, 1},
		{first, "rollout started", []string{"rollout=1"}, 1},
		{first, "rollout ended", []string{"rollout=1", "outcome=Succeeded"}, 1},
		{first, "rollout started", []string{"rollout=2"}, 1},
		{first, "rollout ended", []string{"rollout=2", "outcome=Succeeded"}, 1},
		{first, "instance adopted", nil, 0},
		{first, "server stopped", []string{"instances=left running"}, 1},
		{second, "server started", nil, 1},
		{second, "leading", nil, 1},
		{second, "rollout started", nil, 0},
		{second, "instance adopted", []string{"app=web", "env=prod"}, 2},
		{second, "server stopped", []string{"instances=stopped"}, 1},
	} {
		if got := count(c.log, c.msg, c.attrs...); got != c.want {
			t.Errorf("%q %v logged %d times, want %d", c.msg, c.attrs, got, c.want)
		}
	}
	var adopted []string
	for _, in := range ids.Revisions[len(ids.Revisions)-1].Instances {
		adopted = append(adopted, in.ID)
		if n := count(second, "instance adopted", "message=instance "+in.ID+" "); n != 1 {
			t.Errorf("adoption of %s logged %d times, want 1", in.ID, n)
		}
	}
	if len(adopted) != 2 {
		t.Errorf("rollout status showed instances %v, want 2", adopted)
	}
	for name, log := range map[string][]map[string]any{"first": first, "second": second} {
		seen := map[string]int{}
		for _, rec := range log {
			seen[line(rec)]++
		}
		for l, n := range seen {
			if n > 1 {
				t.Errorf("the %s server logged %d times: %s", name, n, l)
			}
		}
	}
}

// readLog parses a JSON server log, one object a line.
func readLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: a line that is not JSON: %s", path, sc.Text())
		}
		recs = append(recs, rec)
	}
	return recs
}

// line renders a record without its time, as "msg key=value ..." with the
// keys sorted.
func line(rec map[string]any) string {
	var keys []string
	for k := range rec {
		if k != "time" && k != "msg" && k != "level" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := []string{fmt.Sprint(rec["msg"])}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, rec[k]))
	}
	return strings.Join(parts, " ")
}

// count counts the records with message msg that hold each key=value of
// attrs (a value's prefix is enough).
func count(log []map[string]any, msg string, attrs ...string) int {
	n := 0
next:
	for _, rec := range log {
		if rec["msg"] != msg {
			continue
		}
		for _, a := range attrs {
			k, v, _ := strings.Cut(a, "=")
			if !strings.HasPrefix(fmt.Sprint(rec[k]), v) {
				continue next
			}
		}
		n++
	}
	return n
}
