package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIntOrString_JSON keeps the JSON form the API and the store use: a
// number, or a string for a percentage; a string that is neither is kept
// by decoding and refused by intOrPercent (as Validate does).
func TestIntOrString_JSON(t *testing.T) {
	for _, tt := range []struct {
		v    *IntOrString
		want string
	}{{Int(3), `3`}, {Percent(25), `"25%"`}} {
		b, err := json.Marshal(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("json.Marshal(%s) = %s, %v; want %s", tt.v, b, err, tt.want)
		}
		var back IntOrString
		if err := json.Unmarshal(b, &back); err != nil || back != *tt.v {
			t.Errorf("json.Unmarshal(%s) = %#v, %v; want %#v", b, back, err, *tt.v)
		}
	}
	var bad IntOrString
	if err := json.Unmarshal([]byte(`"1x"`), &bad); err != nil {
		t.Fatal(err)
	}
	if _, _, err := intOrPercent(bad); err == nil || !strings.Contains(err.Error(), "neither a whole number nor a percentage") {
		t.Errorf("intOrPercent(%q) = %v, want neither-nor error", bad.StrVal, err)
	}
	var quoted IntOrString
	json.Unmarshal([]byte(`"2"`), &quoted)
	if n, percent, err := intOrPercent(quoted); n != 2 || percent || err != nil {
		t.Errorf(`intOrPercent("2") = %d, %v, %v; want 2, false, nil`, n, percent, err)
	}
}
