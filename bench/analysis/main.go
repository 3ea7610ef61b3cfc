// Command analysis simulates canaries and measures how fast gantry's
// analysis rolls back a bad one, how often it rolls back a healthy one, and
// how a fixed-threshold check every minute (Flagger / Argo Rollouts style)
// does on the same streams. See README.md.
//
//	go run ./bench/analysis [-seed 1] [-runs 2000]
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/proxy"
)

// detectors, in the columns' order.
const (
	detGantry = iota
	detFixed125
	detFixed110
	numDetectors
)

var detectorNames = [numDetectors]string{"gantry", "fixed, p99 ≤ 1.25×", "fixed, p99 ≤ 1.1×"}

// gantryConfig is the analysis' configuration: the defaults unless a flag
// overrides one.
var gantryConfig analysis.Config

// result is one run: per detector, the second it rolled back (0: never),
// and for gantry the triggers that fired.
type result struct {
	at       [numDetectors]int
	triggers []analysis.Trigger
}

func main() {
	seed := flag.Uint64("seed", 1, "seed of the simulated streams")
	runs := flag.Int("runs", 2000, "simulated runs per scenario")
	hour := flag.Int("seconds", 3600, "length of a run in seconds (false rollbacks are counted over it; detection runs stop there too)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "runs simulated in parallel")
	slowQ := flag.Float64("slow-quantile", 0, "override analysis Config.SlowQuantile (0: the default)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	gantryConfig = analysis.DefaultConfig()
	gantryConfig.SlowQuantile = *slowQ

	w := world{rps: 1000, share: 0.05, baseErr: 0.001, median: 50 * time.Millisecond, sigma: 0.5, maxSeconds: *hour}
	p99 := quantile(w.median, w.sigma, 0.99)
	fmt.Printf("traffic: %.0f requests/s, canary share %.0f%%, baseline 5xx %.1f%%, latency lognormal median %v σ %.2g (p95 %v, p99 %v)\n",
		w.rps, w.share*100, w.baseErr*100, w.median, w.sigma, quantile(w.median, w.sigma, 0.95).Round(time.Millisecond), p99.Round(time.Millisecond))
	fmt.Printf("gantry: analysis.DefaultConfig(), one observation per second\n")
	fmt.Printf("fixed: every 60s, a failed check when the canary's last-minute 5xx share > 1%% or its p99 > %v (1.25×) / %v (1.1×) of the baseline's p99; rollback at 5 failed checks\n",
		(p99 * 125 / 100).Round(time.Millisecond), (p99 * 110 / 100).Round(time.Millisecond))
	fmt.Printf("%d runs per scenario, seed %d, runs last up to %ds\n\n", *runs, *seed, *hour)

	scenarios := []scenario{
		{name: "5× errors (0.5%)", errFactor: 5, p99Factor: 1},
		{name: "2× errors (0.2%)", errFactor: 2, p99Factor: 1},
		{name: "+20% p99 latency", errFactor: 1, p99Factor: 1.2},
		{name: "healthy", errFactor: 1, p99Factor: 1, healthy: true},
	}
	fmt.Printf("%-18s", "time to rollback")
	for _, d := range detectorNames {
		fmt.Printf(" | %-30s", d+": median / p95 / share")
	}
	fmt.Println()
	start := time.Now()
	for si, sc := range scenarios {
		res := simulate(w, sc, p99, *seed+uint64(si)*1_000_003, *runs, *workers)
		if sc.healthy {
			fmt.Printf("\nfalse rollbacks of a healthy canary within %ds:\n", *hour)
			for d := range numDetectors {
				n := 0
				for _, r := range res {
					if r.at[d] > 0 {
						n++
					}
				}
				fmt.Printf("  %-20s %5d of %d (%.2f%%)\n", detectorNames[d], n, len(res), 100*float64(n)/float64(len(res)))
			}
			fmt.Printf("  gantry's triggers:   %s\n", triggerCounts(res))
			continue
		}
		fmt.Printf("%-18s", sc.name)
		for d := range numDetectors {
			fmt.Printf(" | %-30s", summary(res, d, *hour))
		}
		fmt.Println()
	}
	placementTable(*seed, *runs/4, *hour, *workers)
	fmt.Printf("\nsimulated in %v on %d workers\n", time.Since(start).Round(100*time.Millisecond), *workers)

	b := testing.Benchmark(func(b *testing.B) { benchObserve(b, w) })
	fmt.Printf("\nObserve: %d ns per observation of %.0f requests = %.1f ns per evaluated request, %d allocs\n",
		b.NsPerOp(), w.rps, float64(b.NsPerOp())/w.rps, b.AllocsPerOp())
}

// simulate runs one scenario's streams in parallel; run i's stream depends
// only on seed and i.
func simulate(w world, sc scenario, p99 time.Duration, seed uint64, runs, workers int) []result {
	out := make([]result, runs)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out[i] = run(w, sc, p99, rand.New(rand.NewPCG(seed, uint64(i))))
			}
		})
	}
	for i := range runs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func run(w world, sc scenario, p99 time.Duration, r *rand.Rand) result {
	cfg := gantryConfig
	if sc.noMargins {
		cfg.ErrorMargin, cfg.LatencyMargin, cfg.LatencyMarginAbs = -1, -1, -1
	}
	a, err := analysis.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixed := [numDetectors]*fixedCheck{
		detFixed125: {Interval: time.Minute, MaxErrorRate: 0.01, MaxP99: p99 * 125 / 100, Threshold: 5},
		detFixed110: {Interval: time.Minute, MaxErrorRate: 0.01, MaxP99: p99 * 110 / 100, Threshold: 5},
	}
	s := newStream(w, sc, r)
	var res result
	for t := 1; t <= w.maxSeconds; t++ {
		o := s.next()
		done := true
		if res.at[detGantry] == 0 {
			if v := a.Observe(o); v.Action == analysis.Rollback {
				res.at[detGantry] = t
				for _, r := range v.Reasons {
					res.triggers = append(res.triggers, r.Trigger)
				}
			} else {
				done = false
			}
		}
		for d := detFixed125; d < numDetectors; d++ {
			if res.at[d] == 0 {
				if fixed[d].observe(o) {
					res.at[d] = t
				} else {
					done = false
				}
			}
		}
		if done {
			break
		}
	}
	return res
}

// summary formats a detector's rollback times: median, p95 and the share
// of runs rolled back at all; a quantile not reached is "never".
func summary(res []result, d, limit int) string {
	times := make([]float64, 0, len(res))
	for _, r := range res {
		if r.at[d] > 0 {
			times = append(times, float64(r.at[d]))
		} else {
			times = append(times, math.Inf(1))
		}
	}
	slices.Sort(times)
	q := func(p float64) string {
		v := times[min(len(times)-1, int(math.Ceil(p*float64(len(times))))-1)]
		if math.IsInf(v, 1) {
			return fmt.Sprintf(">%ds", limit)
		}
		return fmt.Sprintf("%.0fs", v)
	}
	rolled := 0
	for _, v := range times {
		if !math.IsInf(v, 1) {
			rolled++
		}
	}
	return fmt.Sprintf("%s / %s / %.1f%%", q(0.5), q(0.95), 100*float64(rolled)/float64(len(times)))
}

func triggerCounts(res []result) string {
	counts := map[analysis.Trigger]int{}
	for _, r := range res {
		for _, t := range r.triggers {
			counts[t]++
		}
	}
	if len(counts) == 0 {
		return "none fired"
	}
	var parts []string
	for t := analysis.UnhealthyInstances; t <= analysis.LatencyEvidence; t++ {
		if n := counts[t]; n > 0 {
			parts = append(parts, fmt.Sprintf("%v %d", t, n))
		}
	}
	return strings.Join(parts, ", ")
}

// benchObserve times Observe on a healthy stream, excluding the stream's
// generation.
func benchObserve(b *testing.B, w world) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 256
	type pair struct{ base, can proxy.Histogram }
	obs := make([]analysis.Observation, n)
	hists := make([]pair, n)
	s := newStream(w, scenario{errFactor: 1, p99Factor: 1}, r)
	for i := range obs {
		o := s.next()
		hists[i] = pair{s.hb, s.hc}
		o.Baseline.Latency = &analysis.Buckets{UpperBounds: proxyBounds, Counts: hists[i].base.Counts[:]}
		o.Canary.Latency = &analysis.Buckets{UpperBounds: proxyBounds, Counts: hists[i].can.Counts[:]}
		obs[i] = o
	}
	a, _ := analysis.New(analysis.DefaultConfig())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o := obs[i%n]
		o.At = s.start.Add(time.Duration(i) * time.Second)
		a.Observe(o)
	}
}
