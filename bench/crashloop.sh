#!/usr/bin/env bash
# crashloop.sh runs the kill -9 crash-loop scenarios of
# TestServer_Kill9AfterFirstCrashRollsBack (server/crashloop_test.go) RUNS
# times each: a blue-green release whose green crashes 3 s after every
# start (scaleDownDelaySeconds 3) and a canary pause with a canary that
# crashes 2 s after every start, each with the server killed with SIGKILL
# right after the first crash and started again on the same data. Every
# run must end RolledBack. Prints the tally per scenario, the failed runs
# and the machine's load.
#
# Environment: RUNS (20) per scenario; PARALLEL (2) runs at a time;
# CHAOS=1 also runs the long chaos test (GANTRY_CHAOS_LONG=1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-20}
PARALLEL=${PARALLEL:-2}
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
start=$(date +%s)
status=0
(cd "$ROOT" && GANTRY_CRASHLOOP_RUNS=$RUNS go test ./server/ -count=1 -v -timeout 60m \
	-parallel "$PARALLEL" -run 'TestServer_Kill9AfterFirstCrashRollsBack') >"$LOG" 2>&1 || status=$?
echo "took $(( $(date +%s) - start ))s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -o 'tally: .*' "$LOG" || true
grep -E -- '--- FAIL: TestServer_Kill9AfterFirstCrashRollsBack/' "$LOG" || true
grep -E 'ended .*want RolledBack' "$LOG" | sed 's/^ *//' || true
if [ "${CHAOS:-0}" = 1 ]; then
	(cd "$ROOT" && GANTRY_CHAOS_LONG=1 go test ./server/ -count=1 -v -timeout 60m \
		-run 'TestServer_Kill9Chaos') >"$LOG" 2>&1 || status=$?
	grep -E 'killed the server|rollouts ended|--- (PASS|FAIL)' "$LOG" | grep -v 'server: ' || true
fi
exit $status
