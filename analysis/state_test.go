package analysis

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// An analyzer restored from its State, through JSON, at any point gives
// the same verdicts as one that never stopped.
func TestAnalyzer_StateRestore(t *testing.T) {
	obs := func() []Observation {
		r := rand.New(rand.NewPCG(21, 21))
		var out []Observation
		for i := range 240 {
			o := shifted(r, i, 20*time.Millisecond, 1.1, 0)
			o.Canary.Errors = binomial(r, o.Canary.Requests, 0.004)
			o.Baseline.Errors = binomial(r, o.Baseline.Requests, 0.001)
			o.Step = i / 80
			o.CanaryInstances = Instances{Total: 1, Ready: 1, NewestReady: at(0)}
			out = append(out, o)
		}
		return out
	}()
	whole := mustNew(t, DefaultConfig())
	var want []Verdict
	for _, o := range obs {
		want = append(want, whole.Observe(o))
	}
	for _, cut := range []int{0, 1, 7, 60, 81, 200} {
		a := mustNew(t, DefaultConfig())
		var got []Verdict
		for i, o := range obs {
			if i == cut {
				b, err := json.Marshal(a.State())
				if err != nil {
					t.Fatal(err)
				}
				var s State
				if err := json.Unmarshal(b, &s); err != nil {
					t.Fatal(err)
				}
				if a, err = Restore(DefaultConfig(), s); err != nil {
					t.Fatal(err)
				}
			}
			got = append(got, a.Observe(o))
		}
		if !reflect.DeepEqual(got, want) {
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("restored at %d: observation %d gives %v, want %v", cut, i, got[i], want[i])
				}
			}
		}
	}
	if want[len(want)-1].Action != Rollback {
		t.Errorf("the stream should end rolled back (4× errors), got %v", want[len(want)-1])
	}
}

func TestRestore_RefusesAnotherLayout(t *testing.T) {
	s := mustNew(t, DefaultConfig()).State()
	s.Version = 99
	if _, err := Restore(DefaultConfig(), s); err == nil {
		t.Error("want an error for another version")
	}
	s = mustNew(t, DefaultConfig()).State()
	s.Tests["errTest"] = TestState{LogLR: []float64{1}}
	if _, err := Restore(DefaultConfig(), s); err == nil {
		t.Error("want an error for a test of another size")
	}
	// A test added since the state was stored starts anew.
	s = mustNew(t, DefaultConfig()).State()
	delete(s.Tests, "medOver")
	if _, err := Restore(DefaultConfig(), s); err != nil {
		t.Errorf("a state without the median's test: %v", err)
	}
}
