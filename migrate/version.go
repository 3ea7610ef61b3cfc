package migrate

import (
	"fmt"
	"math/big"
	"strings"
)

// Version is a Flyway migration version: numeric parts separated by dots
// (underscores in file names become dots). Trailing zero parts do not count,
// so 1.0 equals 1, as in Flyway. The zero Version is empty and sorts first.
type Version struct {
	text  string     // the display text, underscores replaced by dots
	parts []*big.Int // trailing zeros removed
}

// ParseVersion reads a version such as "1", "1.1", "2_3" or "20240501120000".
// It rejects empty parts and anything that is not a digit, dot or underscore.
func ParseVersion(s string) (Version, error) {
	text := strings.ReplaceAll(s, "_", ".")
	if text == "" {
		return Version{}, fmt.Errorf("empty version")
	}
	var parts []*big.Int
	for _, p := range strings.Split(text, ".") {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return Version{}, fmt.Errorf("version %q: want numbers separated by dots or underscores, like 1, 1.1 or 2_3", s)
		}
		n, _ := new(big.Int).SetString(p, 10)
		parts = append(parts, n)
	}
	for len(parts) > 1 && parts[len(parts)-1].Sign() == 0 {
		parts = parts[:len(parts)-1]
	}
	return Version{text: text, parts: parts}, nil
}

// MustParseVersion is ParseVersion that panics on error; for constants and tests.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the version as written, with underscores as dots; "" for
// the zero Version.
func (v Version) String() string { return v.text }

// IsZero reports whether v is the empty version (a repeatable migration's).
func (v Version) IsZero() bool { return len(v.parts) == 0 }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w,
// comparing numeric parts in order and treating missing parts as zero.
func (v Version) Compare(w Version) int {
	n := max(len(v.parts), len(w.parts))
	for i := 0; i < n; i++ {
		if c := partAt(v.parts, i).Cmp(partAt(w.parts, i)); c != 0 {
			return c
		}
	}
	return 0
}

var bigZero = big.NewInt(0)

func partAt(p []*big.Int, i int) *big.Int {
	if i < len(p) {
		return p[i]
	}
	return bigZero
}

// Follows reports whether v comes right after prev with no version left out
// between them: one part of prev is incremented by one and any parts after it
// are 0 or 1 (1 → 2, 1 → 1.1, 1.9 → 2, 1.2 → 1.2.1). Info reports the other
// steps (2 → 4, 1.1 → 1.3) as gaps; gaps are legal.
func (v Version) Follows(prev Version) bool {
	if v.Compare(prev) <= 0 {
		return false
	}
	one := big.NewInt(1)
	n := max(len(v.parts), len(prev.parts))
	for i := 0; i < n; i++ {
		a, b := partAt(prev.parts, i), partAt(v.parts, i)
		if a.Cmp(b) == 0 {
			continue
		}
		if new(big.Int).Add(a, one).Cmp(b) != 0 {
			return false
		}
		for j := i + 1; j < len(v.parts); j++ {
			if v.parts[j].Cmp(one) > 0 {
				return false
			}
		}
		return true
	}
	return false
}
