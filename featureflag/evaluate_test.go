package featureflag_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/gantry-dev/gantry/featureflag"
)

// flags returns the flags of testdata/flags.yaml by key.
func flags(t testing.TB) map[string]*featureflag.Compiled {
	t.Helper()
	f, err := featureflag.ParseFile("testdata/flags.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*featureflag.Compiled{}
	for _, fl := range f.Flags {
		c, err := featureflag.Compile(fl)
		if err != nil {
			t.Fatal(err)
		}
		out[fl.Key] = c
	}
	return out
}

func TestCompiled_Evaluate(t *testing.T) {
	fs := flags(t)
	tests := []struct {
		flag    string
		ctx     featureflag.Context
		variant string
		reason  featureflag.Reason
	}{
		{"new-ai-agent", featureflag.Context{"targetingKey": "u1", "email": "ann@example.com"}, "on", featureflag.ReasonTargetingMatch},
		{"new-ai-agent", featureflag.Context{"targetingKey": "u1", "email": "ann@example.org", "appVersion": "1.9.3"}, "off", featureflag.ReasonTargetingMatch},
		{"new-ai-agent", featureflag.Context{"targetingKey": "u1", "appVersion": "v2.0.0"}, variantAt10(fs["new-ai-agent"], "u1"), reasonAt10(fs["new-ai-agent"], "u1")},
		{"greeting", featureflag.Context{"country": "AT"}, "formal", featureflag.ReasonTargetingMatch},
		{"greeting", featureflag.Context{"country": "NL"}, "casual", featureflag.ReasonDefault},
		{"greeting", featureflag.Context{}, "casual", featureflag.ReasonDefault},
		{"max-items", featureflag.Context{"plan": "free", "targetingKey": "x"}, "few", featureflag.ReasonDefault},
		{"theme", nil, "light", featureflag.ReasonStatic},
		{"old-checkout", featureflag.Context{"targetingKey": "u1"}, "on", featureflag.ReasonDisabled},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %v", tc.flag, tc.ctx), func(t *testing.T) {
			got, err := fs[tc.flag].Evaluate(tc.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Variant != tc.variant || got.Reason != tc.reason {
				t.Errorf("got %s (%s), want %s (%s)", got.Variant, got.Reason, tc.variant, tc.reason)
			}
			if !reflect.DeepEqual(got.Value, fs[tc.flag].Flag.Variants[got.Variant]) {
				t.Errorf("value %v is not variant %s's", got.Value, got.Variant)
			}
		})
	}
	t.Run("no targeting key", func(t *testing.T) {
		_, err := fs["new-ai-agent"].Evaluate(featureflag.Context{"email": "x@y.z"})
		var ee *featureflag.EvalError
		if !errors.As(err, &ee) || ee.Code != featureflag.CodeTargetingKeyMissing {
			t.Errorf("err = %v, want TARGETING_KEY_MISSING", err)
		}
	})
}

func variantAt10(c *featureflag.Compiled, key string) string {
	if featureflag.Bucket(c.Flag.Key, key) < 10_000 {
		return "on"
	}
	return "off"
}

func reasonAt10(c *featureflag.Compiled, key string) featureflag.Reason {
	if featureflag.Bucket(c.Flag.Key, key) < 10_000 {
		return featureflag.ReasonSplit
	}
	return featureflag.ReasonDefault
}

// TestRollout_sticky raises a rollout from 10% to 25% over 100,000
// synthetic keys: every key on at 10% stays on, and each share is within
// ±1 percentage point of its target.
func TestRollout_sticky(t *testing.T) {
	flag := func(pct float64) *featureflag.Compiled {
		c, err := featureflag.Compile(featureflag.Flag{Key: "new-ai-agent", Variants: map[string]any{"on": true, "off": false},
			DefaultVariant: "off", Rollout: &featureflag.Rollout{Variant: "on", Percentage: pct}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	at10, at25 := flag(10), flag(25)
	const n = 100_000
	on10, on25, lost := 0, 0, 0
	for i := range n {
		ctx := featureflag.Context{"targetingKey": fmt.Sprintf("user-%d", i)}
		r10, err := at10.Evaluate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r25, _ := at25.Evaluate(ctx)
		if r10.Variant == "on" {
			on10++
			if r25.Variant != "on" {
				lost++
			}
		}
		if r25.Variant == "on" {
			on25++
		}
	}
	if lost != 0 {
		t.Errorf("%d keys on at 10%% are off at 25%%; want none", lost)
	}
	for _, c := range []struct {
		on   int
		want float64
	}{{on10, 10}, {on25, 25}} {
		got := 100 * float64(c.on) / n
		t.Logf("target %g%%: measured %.3f%% of %d keys", c.want, got, n)
		if math.Abs(got-c.want) > 1 {
			t.Errorf("measured %.3f%%, want %g%% ± 1", got, c.want)
		}
	}
}

func BenchmarkCompiled_Evaluate(b *testing.B) {
	fs := flags(b)
	for _, bc := range []struct {
		name, flag string
		ctx        featureflag.Context
	}{
		{"static", "theme", featureflag.Context{"targetingKey": "user-42"}},
		{"rules+rollout", "new-ai-agent", featureflag.Context{"targetingKey": "user-42", "email": "ann@example.org", "appVersion": "2.4.1"}},
		{"in-list", "greeting", featureflag.Context{"country": "CH"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := fs[bc.flag]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Evaluate(bc.ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
