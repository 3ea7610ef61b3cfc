#!/usr/bin/env bash
# canary.sh runs canaries of the sample workload through a real gantry
# server and its proxy (bench/canary) and prints one summary line per
# scenario: healthy canaries (none may be rolled back), 5× errors (each
# rolled back by the ErrorTest, median ≤ 60 s), +50% latency (each rolled
# back by the latency test). See bench/README.md.
#
# Environment: HEALTHY (40), ERRORS (20), SLOW (10) canaries; OBSERVE (60s)
# each; RATE (1000 requests/s); WEIGHT (5 percent); BASELINE (likeForLike:
# fresh stable instances beside each canary; primary: the serving ones);
# HOG=1 keeps one core busy with another process for the whole run, at
# HOG_NICE (0: the same priority as gantry); ANALYSIS: extra spec.analysis
# fields, such as "latencyMarginMs: 0, latencyMarginPercent: 0". Every
# line carries the machine's load average.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
HOG_PID=""
cleanup() {
	if [ -n "$HOG_PID" ]; then
		kill "$HOG_PID" 2>/dev/null || true
		wait "$HOG_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$ROOT" && go build -o "$TMP/gantry" ./cmd/gantry && go build -o "$TMP/canary" ./bench/canary)
if [ "${HOG:-0}" = 1 ]; then
	# One core's worth of busy loop, stopped at exit.
	timeout 7200 nice -n "${HOG_NICE:-0}" sh -c 'while :; do :; done' &
	HOG_PID=$!
	echo "CPU hog: pid $HOG_PID keeps one core busy (nice ${HOG_NICE:-0})"
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
"$TMP/canary" -gantry "$TMP/gantry" -healthy "${HEALTHY:-40}" -errors "${ERRORS:-20}" -slow "${SLOW:-10}" \
	-observe "${OBSERVE:-60s}" -rate "${RATE:-1000}" -weight "${WEIGHT:-5}" -analysis "${ANALYSIS:-}" -baseline "${BASELINE:-likeForLike}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
