#!/usr/bin/env bash
# The cost of gantry server's /metrics at 100 apps × 3 revisions × 20 route
# templates (docs/monitoring.md#cost):
# - BenchmarkScrape (server): one scrape of fixed counters over a socket,
#   text, text gzipped and protobuf gzipped: bytes and CPU per scrape;
# - BenchmarkCounters (dataplane): the read of every counter from the data
#   plane process, JSON (version 1) against version 2 with and without the
#   series index: bytes and CPU per read;
# - TestScrape_dataPlaneProcessAtScale (server): end to end, a real
#   `gantry server` and its `gantry proxy` process serving APPS apps, every
#   route requested, scraped REPS times per format: wall time per scrape
#   and the CPU time of each process; before the scrapes, the data plane's
#   CPU while idle for IDLE seconds (default 2).
# Prints the load average before, during and after.
#
#   bench/scrape.sh
#   APPS=200 REPS=20 bench/scrape.sh
#   IDLE=20 bench/scrape.sh
set -euo pipefail
cd "$(dirname "$0")/.."
APPS=${APPS:-100}
REPS=${REPS:-10}
IDLE=${IDLE:-2}
. bench/loadavg.sh
loadavg_start
go test ./server -run '^$' -bench 'Scrape' -benchtime "${REPS}x" -count 1 | grep -E '^Benchmark'
go test ./dataplane -run '^$' -bench 'Counters' -benchtime "${REPS}x" -count 1 | grep -E '^Benchmark'
out=$(GANTRY_SCRAPE_E2E=1 GANTRY_SCRAPE_APPS=$APPS GANTRY_SCRAPE_REPS=$REPS GANTRY_SCRAPE_IDLE=$IDLE go test ./server -run 'TestScrape_dataPlaneProcessAtScale$' -count=1 -v -timeout 10m 2>&1) && status=0 || status=$?
echo "$out" | grep -E 'SCRAPE|--- (PASS|FAIL)|^(ok|FAIL)|scrape_e2e_test'
loadavg_report
exit $status
