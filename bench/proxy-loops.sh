#!/usr/bin/env bash
# proxy-loops.sh compares the proxy with and without its event loops
# (proxy.Options.EventLoops: GOMAXPROCS loops, or -1: a goroutine per
# connection) on the same upstream under the same wrk load, alternating
# REPS times: requests/s, CPU time per request, context switches and
# runtime sleeps (the Go runtime's monitor thread) per request, from
# `perf stat` on the proxyrun process. See bench/README.md.
#
# Environment: REPS (4), CONNS (64), DURATION (seconds measured, 3), PROCS
# (GOMAXPROCS, default the cores), LOOPS ("0 -1": the EventLoops values
# compared).
set -euo pipefail
REPS=${REPS:-4}
CONNS=${CONNS:-64}
DURATION=${DURATION:-3}
PROCS=${PROCS:-$(nproc)}
LOOPS=${LOOPS:-0 -1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/upstream.sh"
bench_begin "proxy-loops.sh: needs perf and wrk (apt-get install linux-perf wrk)" perf wrk
(cd "$ROOT" && go build -o "$T/upstream" ./bench/upstream && go build -o "$T/proxyrun" ./bench/proxyrun)
start_upstream "hello from stable"
echo "wrk -t2 -c$CONNS, $DURATION s measured per run, GOMAXPROCS=$PROCS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
	for loops in $LOOPS; do
		GOMAXPROCS=$PROCS "$T/proxyrun" -stable "$UP" -canary "$UP" -event-loops "$loops" >"$T/px.addr" 2>/dev/null &
		pid=$!
		for _ in $(seq 100); do [ -s "$T/px.addr" ] && break; sleep 0.05; done
		wrk -t2 -c"$CONNS" -d$((DURATION + 2))s "http://$(head -1 "$T/px.addr")/" >/dev/null &
		w=$!
		sleep 1
		perf stat -x, -e task-clock,context-switches,syscalls:sys_enter_nanosleep,syscalls:sys_enter_read \
			-p "$pid" sleep "$DURATION" 2>"$T/perf.out"
		wait "$w"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		# Two reads per request (client and upstream), as proxy-syscalls.sh shows.
		awk -F, -v l="$loops" -v d="$DURATION" -v rep="$rep" '{v[$3] = $1} END {
			r = v["syscalls:sys_enter_read"] / 2
			printf "run %d event-loops %-3s %8.0f req/s  cpu %5.1f µs/request  context switches %.2f/request  runtime sleeps %.2f/request\n",
				rep, l, r / d, v["task-clock"] * 1000 / r, v["context-switches"] / r, v["syscalls:sys_enter_nanosleep"] / r }' "$T/perf.out"
	done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
