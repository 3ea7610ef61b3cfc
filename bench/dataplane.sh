#!/usr/bin/env bash
# Kills `gantry server` with SIGKILL 3 x ROUNDS times (default 7: 21 kills)
# in the middle of rolling, canary and blue-green rollouts, each under
# RATE requests/s (default 334) through its own environment's proxy (1,000/s
# in all), and
# reports the requests sent, failed, and whether every rollout succeeded
# with the proxy's counters intact. The data plane (`gantry proxy`) keeps
# serving while the server is dead.
#
#   bench/dataplane.sh            # 7 rounds
#   ROUNDS=2 bench/dataplane.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
RATE=${RATE:-334}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(GANTRY_DATAPLANE_ROUNDS=$ROUNDS GANTRY_DATAPLANE_RATE=$RATE go test ./server/ -run 'TestDataPlane_Kill9ServerUnderLoad$' -count=1 -v -timeout 60m 2>&1) && status=0 || status=$?
echo "$out" | grep -E 'kill [0-9]+:|requests, [0-9]+ failed|rollout [0-9]+ after|counted|--- (PASS|FAIL)|^(ok|FAIL)' | grep -v 'server: '
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
kills=$(echo "$out" | grep -c 'server killed' || true)
echo "result: $kills kills of gantry server; test $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
