package spec

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// IntOrString holds either an absolute number (1) or a percentage ("25%"),
// as Kubernetes' maxSurge and maxUnavailable do. It is Kubernetes' own type:
// JSON is a number or a string, String renders "3" or "25%".
type IntOrString = intstr.IntOrString

// Int returns an absolute IntOrString.
func Int(v int) *IntOrString { p := intstr.FromInt32(int32(v)); return &p }

// Percent returns a percentage IntOrString.
func Percent(v int) *IntOrString { p := intstr.FromString(strconv.Itoa(v) + "%"); return &p }

// ParseIntOrString reads "3" or "25%"; a quoted whole number is absolute.
func ParseIntOrString(s string) (IntOrString, error) {
	n, percent, err := parseIntOrPercent(s)
	if err != nil {
		return IntOrString{}, err
	}
	if percent {
		return *Percent(n), nil
	}
	return *Int(n), nil
}

func parseIntOrPercent(s string) (n int, percent bool, err error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return 0, false, fmt.Errorf("%q is not a whole percentage such as \"25%%\"", s)
		}
		return int(n), true, nil
	}
	i, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, false, fmt.Errorf("%q is neither a whole number nor a percentage such as \"25%%\"", s)
	}
	return int(i), false, nil
}

// intOrPercent returns v's number and whether it is a percentage. A string
// that is neither (only possible from JSON, which intstr does not check) is
// an error in ParseIntOrString's words.
func intOrPercent(v IntOrString) (n int, percent bool, err error) {
	if v.Type == intstr.Int {
		return int(v.IntVal), false, nil
	}
	return parseIntOrPercent(v.StrVal)
}

// scaled resolves v against total replicas with Kubernetes' rounding
// (intstr.GetScaledValueFromIntOrPercent): up for maxSurge (roundUp true),
// down for maxUnavailable. A value that is neither a number nor a
// percentage (Validate rejects it) counts as 0.
func scaled(v IntOrString, total int, roundUp bool) int {
	if n, percent, err := intOrPercent(v); err != nil || !percent {
		return n // a number, a quoted number from JSON, or 0
	}
	n, _ := intstr.GetScaledValueFromIntOrPercent(&v, total, roundUp)
	return n
}
