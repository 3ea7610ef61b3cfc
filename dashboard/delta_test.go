package dashboard

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/auth"
)

// TestShown_deltas: a stream sends the first frame whole, then only what
// changed (an environment's new state, one removed, a new order), and
// never an environment the token may not read.
func TestShown_deltas(t *testing.T) {
	env := func(app, name, phase string) encoded {
		return encoded{env: name, key: app + "/" + name, json: []byte(`{"app":"` + app + `","env":"` + name + `","phase":"` + phase + `"}`)}
	}
	viewer := auth.Principal{Name: "v", Grants: []auth.Grant{{Env: "staging", Role: auth.Viewer}, {Env: "prod", Role: auth.Viewer}}}
	now := time.Unix(1_800_000_000, 0).UTC()
	frames := []*frame{
		{time: now, envs: []encoded{env("web", "prod", "Idle"), env("api", "prod", "Idle"), env("web", "secret", "Idle"), env("web", "staging", "Idle")}},
		{time: now.Add(time.Second), envs: []encoded{env("web", "prod", "Progressing"), env("api", "prod", "Idle"), env("web", "secret", "Progressing"), env("web", "staging", "Idle")}},
		{time: now.Add(2 * time.Second), envs: []encoded{env("api", "prod", "Idle"), env("web", "prod", "Progressing")}},
		{time: now.Add(3 * time.Second), envs: []encoded{env("api", "prod", "Idle"), env("web", "prod", "Progressing")}},
	}
	var s shown
	var got []string
	for _, f := range frames {
		var buf bytes.Buffer
		s.write(&buf, viewer, f)
		got = append(got, buf.String())
	}
	type message struct {
		Time    time.Time         `json:"time"`
		Envs    []json.RawMessage `json:"envs"`
		Keys    []string          `json:"keys"`
		Changed []json.RawMessage `json:"changed"`
		Removed []string          `json:"removed"`
	}
	parse := func(i int, event string) message {
		t.Helper()
		head, data, ok := strings.Cut(got[i], "\ndata: ")
		if !ok || head != "event: "+event || !strings.HasSuffix(data, "\n\n") {
			t.Fatalf("frame %d = %q, want one %s event", i, got[i], event)
		}
		var m message
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("frame %d: %v in %s", i, err, data)
		}
		if !m.Time.Equal(frames[i].time) {
			t.Errorf("frame %d time %v, want %v", i, m.Time, frames[i].time)
		}
		return m
	}
	if m := parse(0, "snapshot"); len(m.Envs) != 3 || strings.Contains(got[0], "secret") {
		t.Errorf("snapshot = %s; want the 3 environments the viewer may read", got[0])
	}
	if m := parse(1, "delta"); len(m.Changed) != 1 || !strings.Contains(string(m.Changed[0]), `"web","env":"prod","phase":"Progressing"`) ||
		m.Keys != nil || m.Removed != nil || strings.Contains(got[1], "secret") {
		t.Errorf("delta 1 = %s; want only web/prod's new state (same order, nothing removed, not the secret env)", got[1])
	}
	if m := parse(2, "delta"); m.Changed != nil || strings.Join(m.Keys, " ") != "api/prod web/prod" || strings.Join(m.Removed, " ") != "web/staging" {
		t.Errorf("delta 2 = %s; want the new order and web/staging removed, no state", got[2])
	}
	if m := parse(3, "delta"); m.Changed != nil || m.Keys != nil || m.Removed != nil {
		t.Errorf("delta 3 = %s; want only the time (nothing changed)", got[3])
	}
}
