#!/usr/bin/env bash
# proxy.sh compares gantry's proxy with nginx as a reverse proxy on this
# machine: the same two upstreams (stable and canary, split 95/5), the same
# wrk load, runs interleaved. "gantry" is the proxy package in a small
# program (bench/proxyrun); "gantry-proxy" is the data plane process
# gantry server runs (`gantry proxy`), programmed over its control socket.
# See bench/README.md.
#
# Environment: DURATION (default 10s), CONNS (64), THREADS (2), REPS (3),
# PROCS (CPU cores each proxy may use: gantry's GOMAXPROCS and nginx's
# worker_processes; default: the number of cores), DPPROCS (gantry proxy
# --procs; default PROCS), ROUTES (> 0: also run both gantry variants with
# everything on, as "gantry+" and "gproxy+": requests counted per route
# template too, ROUTES templates as spec.metrics.routes, and the counters
# read every second as gantry server's /metrics scrape does; default 0), TLS
# (1: also compare both terminating TLS with the same certificate; 0: plain
# HTTP only), NOLOOPS (1: also run proxyrun without event loops, a goroutine
# per connection, as "gantry-gor"), EVPROXY (1: also run bench/evproxy, the
# event-loop prototype; EVFLAGS: its flags), CPU (1: CPU time per request by
# process).
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
PROCS=${PROCS:-$(nproc)}
TLS=${TLS:-1}
ROUTES=${ROUTES:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "proxy.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
		exit 1
	fi
	echo "installing ${need[*]} ..." >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_addr FILE: waits (up to 10 s) for a program to print its address.
wait_addr() {
	for _ in $(seq 100); do
		if [ -s "$1" ]; then
			head -n1 "$1"
			return
		fi
		sleep 0.1
	done
	echo "proxy.sh: no address in $1" >&2
	exit 1
}

echo "building ..." >&2
(cd "$ROOT" && go build -o "$TMP/upstream" ./bench/upstream && go build -o "$TMP/proxyrun" ./bench/proxyrun && go build -o "$TMP/gantry" ./cmd/gantry)

"$TMP/upstream" -body "hello from stable" >"$TMP/stable.addr" &
PIDS+=($!)
"$TMP/upstream" -body "hello from canary" >"$TMP/canary.addr" &
PIDS+=($!)
UPSTREAM_PIDS="${PIDS[0]} ${PIDS[1]}"
declare -A PROXY_PIDS=([direct]="") # each target's proxy processes
STABLE=$(wait_addr "$TMP/stable.addr")
CANARY=$(wait_addr "$TMP/canary.addr")

GOMAXPROCS=$PROCS "$TMP/proxyrun" -stable "$STABLE" -canary "$CANARY" -weights 95/5 >"$TMP/gantry.addr" 2>"$TMP/gantry.log" &
GANTRY_PID=$!
PIDS+=($GANTRY_PID)
PROXY_PIDS[gantry]=$GANTRY_PID
GANTRY=$(wait_addr "$TMP/gantry.addr")

# The data plane as gantry server runs it: a `gantry proxy` process
# (DPPROCS: its --procs, default PROCS), programmed with the same 95/5
# split over its control socket.
DPPROCS=${DPPROCS:-$PROCS}
mkdir -m 700 "$TMP/dp"
"$TMP/gantry" proxy --data "$TMP/dp" --procs "$DPPROCS" 2>"$TMP/dataplane.log" &
PIDS+=($!)
PROXY_PIDS[gantry-proxy]=$!
PROXY_PIDS[gproxy-tls]=$!
for _ in $(seq 100); do [ -S "$TMP/dp/proxy.sock" ] && break; sleep 0.05; done
route() { echo "{\"Revision\":$1,\"Version\":\"$2\",\"Weight\":$3,\"Endpoints\":[{\"ID\":\"$2-0\",\"Addr\":\"$4\"}]}"; }
# program ENV LISTENER [FIELDS [DIR]]: applies the 95/5 split as environment
# bench/ENV with LISTENER settings (JSON) and more FIELDS of the desired state
# to the gantry proxy of DIR (default $TMP/dp), and prints the address it serves.
program() {
	local addr
	addr=$(curl -fsS --unix-socket "${4:-$TMP/dp}/proxy.sock" -X PUT "http://gantry-proxy/v1/environments/bench/$1" \
		-d "{\"App\":\"bench\",\"Name\":\"$1\",\"Version\":1,\"Listener\":$2,${3:+$3,}\"Routes\":[$(route 1 stable 95 "$STABLE"),$(route 2 canary 5 "$CANARY")]}" |
		sed -n 's/.*"Addr":"\([^"]*\)".*/\1/p')
	[ -n "$addr" ] || { echo "proxy.sh: gantry proxy was not programmed:" >&2; cat "$TMP/dataplane.log" >&2; exit 1; }
	echo "$addr"
}
DATAPLANE=$(program prod '{}')

# Everything on (ROUTES > 0): a second proxyrun and a second gantry proxy
# count requests per route template too (/ and /api/rN/{id}, as proxyrun
# -routes) and have all their counters read every second, as gantry
# server's /metrics does on each scrape: proxyrun reads its own, the data
# plane's are read over its control socket (GET /v1/counters) by a loop
# that runs all along (an idle proxy answers it in microseconds).
if [ "$ROUTES" -gt 0 ]; then
	GOMAXPROCS=$PROCS "$TMP/proxyrun" -stable "$STABLE" -canary "$CANARY" -weights 95/5 -routes "$ROUTES" -read-stats 1s \
		>"$TMP/gantry-on.addr" 2>"$TMP/gantry-on.log" &
	PIDS+=($!)
	PROXY_PIDS[gantry+]=$!
	GANTRY_ON=$(wait_addr "$TMP/gantry-on.addr")
	mkdir -m 700 "$TMP/dp-on"
	"$TMP/gantry" proxy --data "$TMP/dp-on" --procs "$DPPROCS" 2>"$TMP/dataplane-on.log" &
	PIDS+=($!)
	PROXY_PIDS[gproxy+]=$!
	for _ in $(seq 100); do [ -S "$TMP/dp-on/proxy.sock" ] && break; sleep 0.05; done
	templates='"/"'
	for i in $(seq $((ROUTES - 1))); do templates+=",\"/api/r$i/{id}\""; done
	DATAPLANE_ON=$(program prod '{}' "\"RouteTemplates\":[$templates]" "$TMP/dp-on")
	while curl -fsS -o /dev/null --unix-socket "$TMP/dp-on/proxy.sock" http://gantry-proxy/v1/counters ||
		{ echo "proxy.sh: gproxy+'s counters could not be read: it runs without its scrapes from here on" >&2; false; }; do sleep 1; done &
	PIDS+=($!)
fi

# The TLS case: one self-signed P-256 certificate for both proxies.
if [ "$TLS" = 1 ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
	GOMAXPROCS=$PROCS "$TMP/proxyrun" -stable "$STABLE" -canary "$CANARY" -weights 95/5 -routes "$ROUTES" \
		-cert "$TMP/cert.pem" -key "$TMP/key.pem" >"$TMP/gantry-tls.addr" 2>"$TMP/gantry-tls.log" &
	PIDS+=($!)
	PROXY_PIDS[gantry-tls]=$!
	GANTRY_TLS=$(wait_addr "$TMP/gantry-tls.addr")
	DATAPLANE_TLS=$(program tls "{\"CertFile\":\"$TMP/cert.pem\",\"KeyFile\":\"$TMP/key.pem\"}")
	NGINX_TLS_PORT=$("$TMP/upstream" -free-port)
fi

# nginx: as many workers as gantry's GOMAXPROCS (PROCS), so both proxies
# may use the same number of cores. Upstream
# keep-alive pool (256) above the client concurrency, HTTP/1.1 upstream with
# the Connection header cleared, X-Forwarded-For/-Proto set like gantry does,
# no access log (gantry's metrics are counters, not log lines).
WORKERS=$PROCS
NGINX_PORT=$("$TMP/upstream" -free-port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	keepalive_requests 1000000;
	upstream app {
		server $STABLE weight=95;
		server $CANARY weight=5;
		keepalive 256;
		keepalive_requests 1000000;
	}
	server {
		listen 127.0.0.1:$NGINX_PORT;
		$( [ "$TLS" = 1 ] && echo "listen 127.0.0.1:$NGINX_TLS_PORT ssl;
		ssl_certificate $TMP/cert.pem;
		ssl_certificate_key $TMP/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;" )
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto \$scheme;
		}
	}
}
CONF
"$NGINX" -c "$TMP/nginx.conf" -e "$TMP/nginx/error.log" &
PIDS+=($!)
NGINX_PID=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null && break
	sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/" || { echo "proxy.sh: nginx did not start:" >&2; cat "$TMP/nginx/error.log" >&2; exit 1; }
curl -fsS -o /dev/null "http://$GANTRY/" || { echo "proxy.sh: gantry proxy does not answer" >&2; exit 1; }

declare -A TARGET=([direct]="http://$STABLE/" [nginx]="http://127.0.0.1:$NGINX_PORT/" [gantry]="http://$GANTRY/" [gantry-proxy]="http://$DATAPLANE/")
NAMES=(direct nginx gantry gantry-proxy)
if [ "$ROUTES" -gt 0 ]; then
	TARGET[gantry+]="http://$GANTRY_ON/"
	TARGET[gproxy+]="http://$DATAPLANE_ON/"
	NAMES+=(gantry+ gproxy+)
fi
if [ "${NOLOOPS:-0}" = 1 ]; then
	GOMAXPROCS=$PROCS "$TMP/proxyrun" -stable "$STABLE" -canary "$CANARY" -weights 95/5 -event-loops -1 >"$TMP/gantry-gor.addr" 2>"$TMP/gantry-gor.log" &
	PIDS+=($!)
	PROXY_PIDS[gantry-gor]=$!
	TARGET[gantry-gor]="http://$(wait_addr "$TMP/gantry-gor.addr")/"
	NAMES+=(gantry-gor)
fi
if [ "${EVPROXY:-0}" = 1 ]; then
	(cd "$ROOT" && go build -o "$TMP/evproxy" ./bench/evproxy)
	"$TMP/evproxy" -stable "$STABLE" -canary "$CANARY" -loops "$PROCS" ${EVFLAGS:-} >"$TMP/evproxy.addr" &
	PIDS+=($!)
	PROXY_PIDS[evproxy]=$!
	TARGET[evproxy]="http://$(wait_addr "$TMP/evproxy.addr")/"
	NAMES+=(evproxy)
fi
if [ "$TLS" = 1 ]; then
	TARGET[nginx-tls]="https://127.0.0.1:$NGINX_TLS_PORT/"
	TARGET[gantry-tls]="https://$GANTRY_TLS/"
	TARGET[gproxy-tls]="https://$DATAPLANE_TLS/"
	NAMES+=(nginx-tls gantry-tls gproxy-tls)
	curl -kfsS -o /dev/null "${TARGET[nginx-tls]}" || { echo "proxy.sh: nginx does not answer over TLS" >&2; exit 1; }
	curl -kfsS -o /dev/null "${TARGET[gantry-tls]}" || { echo "proxy.sh: gantry does not answer over TLS" >&2; exit 1; }
	curl -kfsS -o /dev/null "${TARGET[gproxy-tls]}" || { echo "proxy.sh: gantry proxy does not answer over TLS" >&2; exit 1; }
fi
declare -A RPS P99
# With CPU=1, each run also prints the CPU time per request of the proxy,
# the upstreams and wrk, and the machine's idle and steal share: where the
# cores went (/proc/PID/stat and /proc/stat, in clock ticks).
CPU=${CPU:-0}
PROXY_PIDS[nginx]="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
PROXY_PIDS[nginx-tls]=${PROXY_PIDS[nginx]}
ticks() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo $t; }
machine() { awk '$1 == "cpu" {print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6, $9}' /proc/stat; }
echo "wrk -t$THREADS -c$CONNS -d$DURATION, $REPS interleaved repetitions; gantry (proxyrun) GOMAXPROCS=$PROCS, gantry proxy --procs $DPPROCS, nginx worker_processes $WORKERS; cores: $(nproc)"
for rep in $(seq "$REPS"); do
	for name in "${NAMES[@]}"; do
		p0=$(ticks ${PROXY_PIDS[$name]}) u0=$(ticks $UPSTREAM_PIDS) m0=$(machine)
		out=$(/usr/bin/time -f "wrk-cpu %U %S" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${TARGET[$name]}" 2>&1)
		p1=$(ticks ${PROXY_PIDS[$name]}) u1=$(ticks $UPSTREAM_PIDS) m1=$(machine)
		rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
		p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
		errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
		printf "run %d %-10s %10.0f req/s  p99 %-8s %s\n" "$rep" "$name" "$rps" "$p99" "$errs"
		if [ "$CPU" = 1 ]; then
			reqs=$(awk '/requests in/ {print $1}' <<<"$out")
			awk -v r="$reqs" -v p=$((p1 - p0)) -v u=$((u1 - u0)) -v m0="$m0" -v m1="$m1" -v w="$(awk '/^wrk-cpu/ {print $2 + $3}' <<<"$out")" 'BEGIN {
				split(m0, a, " "); split(m1, b, " "); t = b[1] - a[1]
				printf "      cpu µs/request: proxy %.1f, upstreams %.1f, wrk %.1f; machine idle %.0f%%, steal %.0f%%\n",
					p * 1e4 / r, u * 1e4 / r, w * 1e6 / r, 100 * (b[2] - a[2]) / t, 100 * (b[3] - a[3]) / t }'
		fi
		RPS[$name]+="$rps "
		P99[$name]+="$p99 "
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for name in "${NAMES[@]}"; do
	printf "median %-10s %10.0f req/s  p99s: %s\n" "$name" "$(median <<<"${RPS[$name]}")" "${P99[$name]}"
done
kill "$GANTRY_PID" 2>/dev/null && wait "$GANTRY_PID" 2>/dev/null || true
sed 's/^/gantry stats: /' "$TMP/gantry.log" | grep -i "revision" || true
awk -v g="$(median <<<"${RPS[gantry]}")" -v n="$(median <<<"${RPS[nginx]}")" 'BEGIN {printf "ratio gantry/nginx: %.2f\n", g / n}'
# Each repetition's own ratios (runs next to each other see about the same
# load), for every proxy against nginx: their median is steadier than the
# ratio of medians on a machine whose load drifts.
for name in "${NAMES[@]}"; do
	case $name in direct | nginx | nginx-tls) continue ;; esac
	base=nginx
	case $name in *tls) base=nginx-tls ;; esac
	printf "per-run ratios %s/%s: %s\n" "$name" "$base" "$(paste -d/ <(tr ' ' '\n' <<<"${RPS[$name]}" | grep .) <(tr ' ' '\n' <<<"${RPS[$base]}" | grep .) | bc -l | awk '{printf "%.2f ", $1}')"
done
awk -v g="$(median <<<"${RPS[gantry-proxy]}")" -v n="$(median <<<"${RPS[nginx]}")" 'BEGIN {printf "ratio gantry proxy process (data plane, programmed over its socket)/nginx: %.2f\n", g / n}'
if [ "$ROUTES" -gt 0 ]; then
	for v in gantry:gantry+ gantry-proxy:gproxy+; do
		awk -v on="$(median <<<"${RPS[${v#*:}]}")" -v off="$(median <<<"${RPS[${v%:*}]}")" -v n="$(median <<<"${RPS[nginx]}")" -v name="${v%:*}" \
			'BEGIN {printf "ratio %s with everything on (%d route templates, counters read every second)/nginx: %.2f (off: %.2f; on/off %.2f)\n", name, '"$ROUTES"', on / n, off / n, on / off}'
	done
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$TLS" = 1 ]; then
	awk -v g="$(median <<<"${RPS[gantry-tls]}")" -v n="$(median <<<"${RPS[nginx-tls]}")" 'BEGIN {printf "ratio gantry/nginx over TLS: %.2f\n", g / n}'
	awk -v g="$(median <<<"${RPS[gproxy-tls]}")" -v n="$(median <<<"${RPS[nginx-tls]}")" 'BEGIN {printf "ratio gantry proxy process/nginx over TLS: %.2f\n", g / n}'
fi
