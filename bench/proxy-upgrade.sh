#!/usr/bin/env bash
# Upgrades the data plane (`gantry proxy upgrade`: a new process takes the
# listening sockets and tables over the control socket) UPGRADES times
# (default 10) under RATE requests/s (default 1,000) of POSTs on kept-alive
# connections, which no client resends when a connection fails under it,
# with the supervisor and its warm standby running. Prints each handover
# and the requests sent, failed and reset (the test fails on any), with the
# load average. Runs TestUpgrade_UnderLoad (dataplane/upgrade_test.go): the
# test binary acts as gantry proxy, so nothing large is built.
#
#   bench/proxy-upgrade.sh
#   UPGRADES=20 RATE=2000 bench/proxy-upgrade.sh
set -euo pipefail
cd "$(dirname "$0")/.."
UPGRADES=${UPGRADES:-10}
RATE=${RATE:-1000}
. bench/loadavg.sh
loadavg_start
out=$(GANTRY_UPGRADES=$UPGRADES GANTRY_UPGRADE_RATE=$RATE go test ./dataplane/ -run 'TestUpgrade_UnderLoad$' -count=1 -v -timeout 10m 2>&1) && status=0 || status=$?
echo "$out" | grep -E 'upgrade [0-9]+:|upgrades:|failed across|--- (PASS|FAIL)|^(ok|FAIL)'
loadavg_report
exit $status
