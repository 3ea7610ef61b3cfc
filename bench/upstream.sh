# Sourced by the bench scripts that put a proxy in front of bench/upstream.
#
# bench_begin HINT TOOL...: exits with HINT unless every TOOL is on PATH,
# then makes the work directory $T and, at exit, kills the processes in
# $PIDS and removes $T.
# start_upstream BODY: starts $T/upstream (built by the caller), answering
# BODY, and sets UP to its address.

bench_begin() {
	local hint=$1 tool
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$hint" >&2; exit 1; }
	done
	T=$(mktemp -d)
	PIDS=()
	trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
}

start_upstream() {
	"$T/upstream" -body "$1" >"$T/up.addr" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/up.addr" ] && break; sleep 0.1; done
	UP=$(head -1 "$T/up.addr")
}
