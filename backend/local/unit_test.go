package local

import (
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want procStat
	}{
		{"plain", "4242 (gantry-sample) S 1 4242 4242 0 -1 4194560 100 0 0 0 12 8 0 0 20 0 5 0 987654 1000000 2560 18446744073709551615",
			procStat{pid: 4242, state: 'S', pgrp: 4242, ticks: 20, startTime: 987654, rssPages: 2560}},
		{"spaces and parens in the name", "7 (a) b (c) R 1 3 3 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 55 0 9 0",
			procStat{pid: 7, state: 'R', pgrp: 3, ticks: 3, startTime: 55, rssPages: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "12 no-parens S", "12 (x) S 1 2"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestThreshold_Observe(t *testing.T) {
	tests := []struct {
		name      string
		th        threshold
		results   []bool
		want      []bool // passing after each result
		wantFlips int
	}{
		{"readiness: one pass makes ready", threshold{successes: 1, failures: 3}, []bool{false, true, false, false, false},
			[]bool{false, true, true, true, false}, 2},
		{"readiness: two passes in a row", threshold{successes: 2, failures: 1}, []bool{true, false, true, true, false},
			[]bool{false, false, false, true, false}, 2},
		{"liveness: three failures in a row", threshold{successes: 1, failures: 3, passing: true}, []bool{false, false, true, false, false, false},
			[]bool{true, true, true, true, true, false}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := tt.th
			flips := 0
			for i, r := range tt.results {
				if th.observe(r) {
					flips++
				}
				if th.passing != tt.want[i] {
					t.Errorf("after result %d (%v): passing %v, want %v", i, r, th.passing, tt.want[i])
				}
			}
			if flips != tt.wantFlips {
				t.Errorf("%d changes reported, want %d", flips, tt.wantFlips)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	r := records{dir: t.TempDir()}
	want := record{ID: "web-prod-3-abcde", App: "web", Env: "prod", Revision: 3, Version: "v3", PID: 12, StartTime: 34, Port: 5678, Restarts: 2}
	if err := r.put(want); err != nil {
		t.Fatal(err)
	}
	want.Restarts = 3
	if err := r.put(want); err != nil { // replaces
		t.Fatal(err)
	}
	got, err := r.list()
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("list = %+v, %v; want [%+v]", got, err, want)
	}
	if err := r.remove(want.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.remove(want.ID); err != nil {
		t.Errorf("removing a missing record: %v", err)
	}
	if got, err := r.list(); err != nil || len(got) != 0 {
		t.Errorf("after remove: %+v, %v", got, err)
	}
}
