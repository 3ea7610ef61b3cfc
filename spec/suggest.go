package spec

import (
	"fmt"
	"strings"
)

// unknownField says a field is not known and suggests the closest known
// one, or lists them all when none is close.
func unknownField(name string, known []string) string {
	if s, ok := closest(name, known); ok {
		return fmt.Sprintf("unknown field %q; did you mean %q?", name, s)
	}
	return fmt.Sprintf("unknown field %q; known fields: %s", name, strings.Join(known, ", "))
}

// Closest returns the candidate a user most likely meant by s (a typo at
// most a few edits away), for "did you mean" hints; ok is false when none
// is close.
func Closest(s string, candidates []string) (string, bool) { return closest(s, candidates) }

// closest returns the candidate nearest to s by case-insensitive edit
// distance, when it is near enough to be a likely typo: at most 2 edits, or
// a third of the name's length for long names.
func closest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(2, len(s)/3)
	if bestD < 0 || bestD > limit || bestD >= len(s) {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
