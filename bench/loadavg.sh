# Sourced by the bench scripts: samples the 1-minute load average every 5 s
# while a run lasts (loadavg_start), then prints its min, median and max
# and the load average at the end (loadavg_report).

loadavg_start() {
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	loadavg_file=$(mktemp)
	(while :; do cut -d' ' -f1 /proc/loadavg >>"$loadavg_file"; sleep 5; done) &
	loadavg_sampler=$!
	trap 'kill "$loadavg_sampler" 2>/dev/null || true; rm -f "$loadavg_file"' EXIT
}

loadavg_report() {
	kill "$loadavg_sampler" 2>/dev/null || true
	local sorted
	sorted=$(sort -n "$loadavg_file")
	echo "load average during the run (1 min, every 5 s): min $(echo "$sorted" | head -1), median $(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'), max $(echo "$sorted" | tail -1)"
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}
