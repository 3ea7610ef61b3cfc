#!/usr/bin/env bash
# proxy-syscalls.sh counts, per proxied request, the system calls and CPU
# time of `gantry proxy` and of nginx (both with PROCS cores) under the same
# wrk load, with `perf stat` on syscall tracepoints (which, unlike strace,
# does not slow the process down and change what it does). Prints one
# table per proxy. See bench/README.md.
#
# Environment: CONNS (64; 4 shows a proxy idle between requests), DURATION
# (4s), PROCS (cores), DPPROCS (gantry proxy --procs, default PROCS).
set -euo pipefail
CONNS=${CONNS:-64}
DURATION=${DURATION:-4s}
PROCS=${PROCS:-$(nproc)}
DPPROCS=${DPPROCS:-$PROCS}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
. "$ROOT/bench/upstream.sh"
bench_begin "proxy-syscalls.sh: needs perf, wrk and nginx (apt-get install linux-perf wrk nginx)" perf wrk "$NGINX"
(cd "$ROOT" && go build -o "$T/upstream" ./bench/upstream && go build -o "$T/gantry" ./cmd/gantry)
start_upstream "hello from stable"
mkdir -m 700 "$T/dp" "$T/nginx"
"$T/gantry" proxy --data "$T/dp" --procs "$DPPROCS" 2>"$T/dp.log" &
G=$!
PIDS+=($G)
for _ in $(seq 100); do [ -S "$T/dp/proxy.sock" ] && break; sleep 0.05; done
GA=$(curl -fsS --unix-socket "$T/dp/proxy.sock" -X PUT http://gantry-proxy/v1/environments/bench/prod \
	-d "{\"App\":\"bench\",\"Name\":\"prod\",\"Version\":1,\"Routes\":[{\"Revision\":1,\"Version\":\"v1\",\"Weight\":1,\"Endpoints\":[{\"ID\":\"a\",\"Addr\":\"$UP\"}]}]}" |
	sed -n 's/.*"Addr":"\([^"]*\)".*/\1/p')
NP=$("$T/upstream" -free-port)
cat >"$T/nginx.conf" <<CONF
worker_processes $PROCS; daemon off; pid $T/nginx/pid; error_log $T/nginx/error.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $T/nginx/b; proxy_temp_path $T/nginx/p; fastcgi_temp_path $T/nginx/f;
  uwsgi_temp_path $T/nginx/u; scgi_temp_path $T/nginx/s; keepalive_requests 1000000;
  upstream app { server $UP; keepalive 256; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$NP; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto \$scheme; } } }
CONF
"$NGINX" -c "$T/nginx.conf" -e "$T/nginx/error.log" &
N=$!
PIDS+=($N)
sleep 0.5
EV=task-clock,context-switches
for sc in read write writev recvfrom getsockopt epoll_pwait epoll_wait futex nanosleep; do EV+=,syscalls:sys_enter_$sc; done
echo "wrk -t2 -c$CONNS -d$DURATION; gantry proxy --procs $DPPROCS, nginx worker_processes $PROCS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for who in gantry nginx; do
	if [ $who = gantry ]; then url=http://$GA/; pids=$G; else url=http://127.0.0.1:$NP/; pids=$(pgrep -P "$N" | paste -sd,); fi
	wrk -t2 -c"$CONNS" -d1s "$url" >/dev/null # warm the upstream pools
	perf stat -x, -e "$EV" -p "$pids" -o "$T/$who.perf" &
	sp=$!
	sleep 0.3
	out=$(wrk -t2 -c"$CONNS" -d"$DURATION" "$url")
	kill -INT $sp
	wait $sp 2>/dev/null || true
	reqs=$(awk '/requests in/ {print $1}' <<<"$out")
	echo "$who: $reqs requests, $(awk '/Requests.sec/ {print $2}' <<<"$out") req/s"
	awk -F, -v r="$reqs" '$3 ~ /./ && $1+0 > 0 {n=$3; sub("syscalls:sys_enter_", "", n); if (n == "task-clock") printf "  %-18s %8.1f µs/request\n", "cpu", $1*1000/r; else printf "  %-18s %8.3f /request\n", n, $1/r}' "$T/$who.perf"
done
