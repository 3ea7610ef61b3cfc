package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// IntOrString holds either an absolute number ("1") or a percentage ("25%"),
// as Kubernetes' maxSurge and maxUnavailable do.
type IntOrString struct {
	// IsPercent says Value is a percentage of the replica count.
	IsPercent bool
	// Value is the number, or the percentage when IsPercent.
	Value int
}

// Int returns an absolute IntOrString.
func Int(v int) *IntOrString { return &IntOrString{Value: v} }

// Percent returns a percentage IntOrString.
func Percent(v int) *IntOrString { return &IntOrString{IsPercent: true, Value: v} }

// String renders "3" or "25%".
func (v IntOrString) String() string {
	if v.IsPercent {
		return strconv.Itoa(v.Value) + "%"
	}
	return strconv.Itoa(v.Value)
}

// Scaled resolves v against total replicas with Kubernetes' rounding: up for
// maxSurge (roundUp true), down for maxUnavailable.
func (v IntOrString) Scaled(total int, roundUp bool) int {
	if !v.IsPercent {
		return v.Value
	}
	f := float64(v.Value) * float64(total) / 100
	if roundUp {
		return int(math.Ceil(f))
	}
	return int(math.Floor(f))
}

// ParseIntOrString reads "3" or "25%".
func ParseIntOrString(s string) (IntOrString, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(p)
		if err != nil {
			return IntOrString{}, fmt.Errorf("%q is not a whole percentage such as \"25%%\"", s)
		}
		return IntOrString{IsPercent: true, Value: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return IntOrString{}, fmt.Errorf("%q is neither a whole number nor a percentage such as \"25%%\"", s)
	}
	return IntOrString{Value: n}, nil
}

// MarshalJSON writes a number, or a string for a percentage.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsPercent {
		return json.Marshal(v.String())
	}
	return json.Marshal(v.Value)
}

// UnmarshalJSON reads a number or a string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*v = IntOrString{Value: n}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a number or a percentage string: %w", err)
	}
	p, err := ParseIntOrString(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}
