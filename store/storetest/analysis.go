package storetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

// analysisTests check rollout.AnalysisStateStore, for the stores that
// implement it.
var analysisTests = []test{
	{"PutGetReplace", func(t *testing.T, s rollout.Store) {
		as, ok := s.(rollout.AnalysisStateStore)
		if !ok {
			t.Skip("the store keeps no analysis state")
		}
		must(t, "PutApp", s.PutApp(ctx(t), fullApp("web")))
		r, err := s.CreateRollout(ctx(t), fullRollout("web", "prod"))
		must(t, "CreateRollout", err)
		if _, err := as.GetAnalysisState(ctx(t), r.ID); !errors.Is(err, rollout.ErrNotFound) {
			t.Fatalf("GetAnalysisState before any Put: %v, want ErrNotFound", err)
		}
		for _, state := range []string{`{"version":1,"tests":{"errTest":{"logLR":[-1.5,2],"peak":2}}}`, `{"version":1}`} {
			must(t, "PutAnalysisState", as.PutAnalysisState(ctx(t), r.ID, []byte(state)))
			got, err := as.GetAnalysisState(ctx(t), r.ID)
			must(t, "GetAnalysisState", err)
			if !jsonEqual(got, []byte(state)) {
				t.Errorf("GetAnalysisState = %s, want %s", got, state)
			}
		}
	}},
}

// jsonEqual compares two JSON documents as values (PostgreSQL's jsonb
// writes its own spacing and key order).
func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
