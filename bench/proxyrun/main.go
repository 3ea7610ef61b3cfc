// Command proxyrun runs gantry's proxy for benchmarks: one listener, a
// stable and a canary upstream split by weight, metrics on. It prints its
// listen address on the first line of standard output and, on SIGTERM or
// SIGINT, each revision's request count and p99 on standard error.
//
//	proxyrun -addr 127.0.0.1:0 -stable 127.0.0.1:9001 -canary 127.0.0.1:9002 -weights 95/5
//	proxyrun ... -cert cert.pem -key key.pem   # terminate TLS
//	proxyrun ... -routes 20 -read-stats 1s       # per-route counters, read as /metrics does
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/proxy"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	stable := flag.String("stable", "", "stable upstream host:port (revision 1)")
	canary := flag.String("canary", "", "canary upstream host:port (revision 2)")
	weights := flag.String("weights", "95/5", "stable/canary weights")
	sticky := flag.String("sticky-cookie", "", "sticky cookie name; empty: none")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until stopped")
	cert := flag.String("cert", "", "terminate TLS with this PEM certificate file (with -key); empty: plain HTTP")
	key := flag.String("key", "", "PEM private key file of -cert")
	routes := flag.Int("routes", 0, "count requests per route too, with this many route templates (/ and /api/rN/{id}); 0: none")
	loops := flag.Int("event-loops", 0, "proxy.Options.EventLoops: event loops serving plain connections; 0: GOMAXPROCS, -1: none (a goroutine per connection)")
	readStats := flag.Duration("read-stats", 0, "read every counter (per revision, per route, rejections) this often, as gantry server's /metrics does on each scrape; 0: never")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "proxyrun:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	var tlsFiles *proxy.TLSFiles
	if *cert != "" || *key != "" {
		tlsFiles = &proxy.TLSFiles{CertFile: *cert, KeyFile: *key}
	}
	if err := run(*addr, *stable, *canary, *weights, *sticky, tlsFiles, *routes, *readStats, *loops); err != nil {
		fmt.Fprintln(os.Stderr, "proxyrun:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(addr, stable, canary, weights, sticky string, tlsFiles *proxy.TLSFiles, routes int, readStats time.Duration, loops int) error {
	if stable == "" || canary == "" {
		return fmt.Errorf("-stable and -canary are required (host:port of each upstream)")
	}
	ws, wc, ok := strings.Cut(weights, "/")
	w1, err1 := strconv.Atoi(ws)
	w2, err2 := strconv.Atoi(wc)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("-weights %q: want two integers such as 95/5", weights)
	}
	p, err := proxy.Listen(proxy.Options{
		Addr:         addr,
		Name:         "bench",
		StickyCookie: sticky,
		TLS:          tlsFiles,
		EventLoops:   loops,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		},
	})
	if err != nil {
		return err
	}
	t := proxy.Table{Revisions: []proxy.Route{
		{Revision: 1, Version: "stable", Weight: w1, Endpoints: []proxy.Endpoint{{ID: "stable-0", Addr: stable}}},
		{Revision: 2, Version: "canary", Weight: w2, Endpoints: []proxy.Endpoint{{ID: "canary-0", Addr: canary}}},
	}}
	for i := range routes {
		if i == 0 {
			t.RouteTemplates = append(t.RouteTemplates, "/")
		} else {
			t.RouteTemplates = append(t.RouteTemplates, fmt.Sprintf("/api/r%d/{id}", i))
		}
	}
	p.SetTable(t)
	fmt.Println(p.Addr())
	if readStats > 0 {
		go func() {
			for range time.Tick(readStats) {
				_, _, _ = p.Stats(), p.RouteStats(), p.Rejections()
			}
		}()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = p.Shutdown(ctx)
	for _, s := range p.Stats() {
		if s.Requests == 0 {
			continue
		}
		fmt.Fprintf(os.Stderr, "revision %d (%s): %d requests, %d 2xx, %d 5xx, %d client closed, p99 %v\n",
			s.Revision, s.Version, s.Requests, s.Status2xx, s.Status5xx, s.ClientClosed, s.Latency.Quantile(0.99))
	}
	return err
}
