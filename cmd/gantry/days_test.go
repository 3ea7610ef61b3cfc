package main

import (
	"testing"
	"time"
)

func TestParseDays(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{"30d": 30 * day, "2w": 14 * day, "1d12h": 36 * time.Hour, "720h": 720 * time.Hour, "90m": 90 * time.Minute, "0": 0} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "d", "-1d", "3x", "1d-2h"} {
		if got, err := parseDays(in); err == nil {
			t.Errorf("parseDays(%q) = %v, want an error", in, got)
		}
	}
}
