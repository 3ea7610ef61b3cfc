package dataplane

import (
	"encoding/json"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/proxy"
)

// benchCounters are the counters of 100 apps with 3 revisions each and 20
// route templates (21 labels with other), every histogram bucket counted,
// and each revision's sketch of 1,000 users: what gantry server reads per
// /metrics scrape at that scale (server's BenchmarkScrape fixture, plus
// users).
func benchCounters() Counters {
	c := Counters{Boot: Boot{ID: "boot", StartedAt: time.Now(), PID: 1}}
	var lat proxy.Histogram
	for i := range lat.Counts {
		lat.Counts[i] = uint64(i + 1)
	}
	var users activeusers.Sketch
	for u := range 1000 {
		users.Add(uint64(u+1) * 0x9e3779b97f4a7c15)
	}
	for app := range 100 {
		e := EnvCounters{App: "app" + strconv.Itoa(app), Env: "prod", Epoch: 1}
		for r := 1; r <= 3; r++ {
			v := "v" + strconv.Itoa(r)
			e.Revisions = append(e.Revisions, proxy.RevisionStats{Revision: r, Version: v, Requests: 1000, Status2xx: 990, Status5xx: 10, Latency: lat})
			e.Users = append(e.Users, proxy.UserStats{Revision: r, Version: v, Window: 5 * time.Minute, Users: users})
			for rt := range 21 {
				route := "/api/resource" + strconv.Itoa(rt) + "/{id}"
				if rt == 20 {
					route = "other"
				}
				e.Routes = append(e.Routes, proxy.RouteStats{Revision: r, Version: v, Route: route, Requests: 50, Status2xx: 49, Status5xx: 1, Latency: lat})
			}
		}
		e.Rejections = []proxy.Rejection{{Reason: 1, Count: 3}}
		c.Environments = append(c.Environments, e)
	}
	return c
}

// BenchmarkCounters_100apps3revisions20routes times one read of every
// counter, encoded by the data plane and decoded by the server: JSON
// (version 1, what a data plane older than version 2 answers), version 2
// with the series index (the first read, or after the series changed) and
// version 2 values only (every later read). It reports the bytes sent and
// the CPU time per read.
func BenchmarkCounters_100apps3revisions20routes(b *testing.B) {
	c := benchCounters()
	_, idx, _ := roundTrip(b, c)
	for _, v := range []struct {
		name string
		read func() (int, error)
	}{
		{"json", func() (int, error) {
			body, err := json.Marshal(c)
			if err != nil {
				return 0, err
			}
			var out Counters
			return len(body), json.Unmarshal(body, &out)
		}},
		{"v2-index", func() (int, error) {
			body, err := encodeCounters(c, "")
			if err != nil {
				return 0, err
			}
			_, _, err = decodeCounters(body, nil)
			return len(body), err
		}},
		{"v2-values", func() (int, error) {
			body, err := encodeCounters(c, idx.hexID())
			if err != nil {
				return 0, err
			}
			_, _, err = decodeCounters(body, idx)
			return len(body), err
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			var (
				size int
				err  error
			)
			cpu := cpuTime()
			for b.Loop() {
				if size, err = v.read(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size), "bytes/read")
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/read")
		})
	}
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
