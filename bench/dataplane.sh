#!/usr/bin/env bash
# Kills `gantry server` with SIGKILL KILLS times (default 20) at random
# moments of rolling, canary and blue-green rollouts of the sample workload
# (good versions and bad ones with the errors knob, by turns), under RATE
# requests/s (default 1,000) through the environment's proxy, starting the
# server again each time; prints a summary table: kills, requests sent and
# failed, rollouts per strategy and whether each ended as it should (good
# promoted, bad rolled back), the counts compared across restarts, and the
# load average. The data plane (`gantry proxy`) keeps serving while the
# server is dead.
#
#   bench/dataplane.sh                    # 20 kills at 1,000 requests/s
#   KILLS=6 RATE=500 bench/dataplane.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${KILLS:-20}
RATE=${RATE:-1000}
PER_ROLLOUT=${PER_ROLLOUT:-2}
. bench/loadavg.sh
loadavg_start
out=$(GANTRY_DATAPLANE_KILLS=$KILLS GANTRY_DATAPLANE_RATE=$RATE GANTRY_DATAPLANE_KILLS_PER_ROLLOUT=$PER_ROLLOUT \
	go test ./server/ -run 'TestDataPlane_Kill9ServerUnderLoad$' -count=1 -v -timeout 60m 2>&1) && status=0 || status=$?
echo "$out" | grep -E 'kill [0-9]+:|rollout [0-9]+ \(|after the restart|failed across|counted|--- (PASS|FAIL)|^(ok|FAIL)' | grep -v -E 'server: |table: '
echo
echo "$out" | grep -E 'table: ' | sed 's/.*table: //'
echo "$out" | grep -E 'by version: ' | sed 's/^ *//'
loadavg_report
echo "result: test $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
