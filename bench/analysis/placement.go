package main

import (
	"fmt"
	"time"
)

// The placement effect measured on the sample workload through gantry's
// proxy (bench/canary, README.md): at 1,000 requests/s over two stable
// instances and one canary at 5%, the canary's requests are slower
// because its process idles between them, not because of its version.
// Modelled on a sub-millisecond service (median 0.35ms, σ 0.3, p95
// 0.57ms): the canary's median is 20% higher and its σ 0.4, so about 22%
// of its requests are above the baseline's p95, against 5% of the
// baseline's (the figures measured on a quiet machine were 10–24%).
var (
	subMs    = world{rps: 1000, share: 0.05, baseErr: 0.001, median: 350 * time.Microsecond, sigma: 0.3}
	measured = placement{median: 1.2, sigma: 0.1}
)

// placementTable runs the placement scenarios with the primary instances
// or a like-for-like baseline, with and without margins, and prints false
// rollbacks and detection times.
func placementTable(seed uint64, runs, seconds, workers int) {
	w := subMs
	w.maxSeconds = seconds
	fmt.Printf("\nplacement effect (measured): canary median ×%.1f, σ %.2g → %.2g on a %v-median service; %d runs per cell, %ds each\n",
		measured.median, w.sigma, w.sigma+measured.sigma, w.median, runs, seconds)
	cols := []struct {
		name                              string
		likeForLike, errorsAll, noMargins bool
	}{
		{"primary, no margins", false, false, true},
		{"primary, margins", false, false, false},
		{"like-for-like, no margins", true, false, true},
		{"like-for-like, margins", true, false, false},
		{"lfl, errors vs all, no margins", true, true, true},
		{"lfl, errors vs all, margins", true, true, false},
	}
	fmt.Printf("%-34s", "rolled back: median / p95 / share")
	for _, c := range cols {
		fmt.Printf(" | %-26s", c.name)
	}
	fmt.Println()
	rows := []scenario{
		{name: "healthy, placed", place: measured, healthy: true},
		{name: "5× errors, placed", place: measured, errFactor: 5},
		{name: "+50% latency, placed", place: measured, slower: 1.5},
		{name: "+50% latency, 20ms median", slower: 1.5},
		{name: "healthy, 20ms median", healthy: true},
	}
	for ri, row := range rows {
		row.errFactor = max(row.errFactor, 1)
		rw := w
		if row.place == (placement{}) {
			rw.median = 20 * time.Millisecond
		}
		fmt.Printf("%-34s", row.name)
		for ci, c := range cols {
			sc := row
			sc.likeForLike, sc.errorsAll, sc.noMargins = c.likeForLike, c.errorsAll, c.noMargins
			res := simulate(rw, sc, quantile(rw.median, rw.sigma, 0.99), seed+uint64(100+ri*10+ci)*7_919, runs, workers)
			cell := summary(res, detGantry, seconds)
			if row.healthy {
				cell += " " + triggerCounts(res)
			}
			fmt.Printf(" | %-26s", cell)
		}
		fmt.Println()
	}
}
