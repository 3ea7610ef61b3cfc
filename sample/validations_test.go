package sample

import (
	"strings"
	"testing"
)

// TestRun_Invalid: under invalid=1 every plain request is still answered
// 200 but its validation fails, as validations_total on /metrics says.
func TestRun_Invalid(t *testing.T) {
	for _, tc := range []struct{ version, passed, failed string }{
		{"v1", `validations_total{result="passed",version="v1"} 3`, `validations_total{result="failed",version="v1"} 0`},
		{"v2+invalid=1", `validations_total{result="passed",version="v2"} 0`, `validations_total{result="failed",version="v2"} 3`},
	} {
		t.Run(tc.version, func(t *testing.T) {
			base := start(t, tc.version)
			for range 3 {
				if code, _, body := get(t, base+"/checkout"); code != 200 {
					t.Fatalf("GET /checkout: %d %s", code, body)
				}
			}
			_, _, metrics := get(t, base+"/metrics")
			for _, want := range []string{tc.passed, tc.failed} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %q:\n%s", want, metrics)
				}
			}
		})
	}
}
