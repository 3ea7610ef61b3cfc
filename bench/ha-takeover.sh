#!/usr/bin/env bash
# Two `gantry server` on one throwaway PostgreSQL cluster (initdb of the
# PostgreSQL 15 binaries on a free port, by internal/pgtest) and one data
# directory, sharing the embedded data plane (`gantry proxy`); RATE
# requests/s (default 1,000) through the environment's proxy; TAKEOVERS
# times (default 10) a canary is deployed, paused at 20%, the leader is
# killed with SIGKILL, the follower takes over, the killed one comes back
# as the follower, and the canary is promoted. Prints every takeover (the
# time to a new leader, the routing table's version), then a summary:
# requests sent and failed, table versions seen (none may go back, none may
# change across a takeover) and the load average.
#
#   bench/ha-takeover.sh                        # 10 takeovers at 1,000 requests/s
#   TAKEOVERS=3 RATE=500 bench/ha-takeover.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."
TAKEOVERS=${TAKEOVERS:-10}
RATE=${RATE:-1000}
. bench/loadavg.sh
loadavg_start
out=$(GANTRY_HA_TAKEOVERS=$TAKEOVERS GANTRY_HA_RATE=$RATE \
	go test ./server/ -run 'TestDataPlane_HATakeoverUnderLoad$' -count=1 -v -timeout 60m 2>&1) && status=0 || status=$?
echo "$out" | grep -E 'takeover [0-9]+|failed \(last|counted|went back|restarted|--- (PASS|FAIL)|^(ok|FAIL)' | grep -v -E 'server: |table: '
echo
echo "$out" | grep -E 'table: |by version: ' | sed 's/.*table: //; s/^ *//'
loadavg_report
echo "result: test $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
