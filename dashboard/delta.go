package dashboard

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/gantry-dev/gantry/auth"
)

// shown is what one stream has sent of the environments: each one's
// state as last sent, by "app/env", and their order. The first frame goes
// out whole as a "snapshot" event ({"time", "envs": [EnvState...]});
// every later one as a "delta" event carrying only what changed:
//
//	{"time", "keys": ["app/env"...] (the order, when it changed),
//	 "changed": [EnvState...], "removed": ["app/env"...]}
//
// Most environments sit idle between rollouts, so a delta is a fraction
// of a snapshot; the client keeps the states by key and applies it.
type shown struct {
	sent  bool
	state map[string][]byte // the frame's own slices: frames never change
	keys  []string
}

// write writes f's environments that p may read, as a snapshot or a delta.
func (s *shown) write(buf *bytes.Buffer, p auth.Principal, f *frame) {
	visible := make([]encoded, 0, len(f.envs))
	for _, e := range f.envs {
		if p.Role(e.env) >= auth.Viewer {
			visible = append(visible, e)
		}
	}
	t, _ := f.time.MarshalJSON()
	if !s.sent {
		buf.WriteString("event: snapshot\ndata: {\"time\":")
		buf.Write(t)
		buf.WriteString(",\"envs\":")
		writeStates(buf, visible)
		buf.WriteString("}\n\n")
		s.remember(visible)
		return
	}
	var changed []encoded
	keys := make([]string, len(visible))
	current := make(map[string]struct{}, len(visible))
	for i, e := range visible {
		keys[i] = e.key
		current[e.key] = struct{}{}
		if prev, ok := s.state[e.key]; !ok || !bytes.Equal(prev, e.json) {
			changed = append(changed, e)
		}
	}
	var removed []string
	for _, k := range s.keys {
		if _, still := current[k]; !still {
			removed = append(removed, k)
		}
	}
	buf.WriteString("event: delta\ndata: {\"time\":")
	buf.Write(t)
	if !slices.Equal(keys, s.keys) {
		buf.WriteString(",\"keys\":")
		b, _ := json.Marshal(keys) // strings always marshal
		buf.Write(b)
	}
	if len(changed) > 0 {
		buf.WriteString(",\"changed\":")
		writeStates(buf, changed)
	}
	if len(removed) > 0 {
		buf.WriteString(",\"removed\":")
		b, _ := json.Marshal(removed)
		buf.Write(b)
	}
	buf.WriteString("}\n\n")
	s.remember(visible)
}

func (s *shown) remember(visible []encoded) {
	s.sent = true
	s.state = make(map[string][]byte, len(visible))
	s.keys = s.keys[:0]
	for _, e := range visible {
		s.state[e.key] = e.json
		s.keys = append(s.keys, e.key)
	}
}

// writeStates writes a JSON array of encoded states.
func writeStates(buf *bytes.Buffer, envs []encoded) {
	buf.WriteByte('[')
	for i, e := range envs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(e.json)
	}
	buf.WriteByte(']')
}
