#!/usr/bin/env bash
# Kills the data plane process (`gantry proxy`) with SIGKILL KILLS times
# (default 10) under RATE requests/s (default 1,000) through an
# environment's proxy, and prints for each kill how long a new connection
# made right after it waited for its answer, what the server reported
# (DataPlaneRestarted's typed facts: downtime, restart time, requests in
# flight, listeners held, connections queued) and what the load saw fail;
# then the distribution over every kill. Each kill waits for the warm
# standby (`gantry proxy --standby`), which takes over; STANDBY=0 runs the
# server with --no-proxy-standby, and the server starts each replacement.
# The standby and the server hold the proxy's listening sockets, so no
# connection is refused meanwhile.
#
#   bench/proxy-crash.sh            # 10 kills at 1,000 requests/s, standby
#   KILLS=20 RATE=500 bench/proxy-crash.sh
#   STANDBY=0 bench/proxy-crash.sh  # without the standby
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${KILLS:-10}
RATE=${RATE:-1000}
STANDBY=${STANDBY:-1}
. bench/loadavg.sh
loadavg_start
out=$(GANTRY_PROXY_KILLS=$KILLS GANTRY_PROXY_RATE=$RATE GANTRY_PROXY_STANDBY=$STANDBY go test ./server/ -run 'TestDataPlane_ProxyCrashUnderLoad$' -count=1 -v -timeout 30m 2>&1) && status=0 || status=$?
echo "$out" | grep -E 'kill [0-9]+:|proxy crashes|--- (PASS|FAIL)|^(ok|FAIL)' | grep -v 'server: '
loadavg_report
exit $status
