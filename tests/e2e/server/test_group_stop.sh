#!/bin/bash
# e2e.server.group_stop: a SIGTERM to the server's whole process group (what
# systemd's default stop and `timeout` send) still gives the summary measured
# numbers: the workers ignore SIGTERM and the supervisor samples them before it
# stops them (it once read 0 kB resident and 0 threads when a worker died first).
# Three times each model, with 2 worker processes, so a race has room to show.
. "$(dirname "$0")/../agent/lib.sh"
server=$1

for model in threads epoll; do
	for i in 1 2 3; do
		out=$WORK/$model-$i.out
		setsid "$server" --listen 127.0.0.1:0 --model $model --processes 2 --ready-fd 3 \
			>"$out" 2>&1 3>"$WORK/$model-$i.ready" &
		pid=$!
		LPIDS="$LPIDS $pid"
		for _ in $(seq 100); do grep -q '^{' "$WORK/$model-$i.ready" && break; sleep 0.05; done
		grep -q '^{' "$WORK/$model-$i.ready" || fail "$model $i: the server did not start: $(cat "$out")"
		kill -TERM -- "-$pid" # setsid: its pid is its group's
		timeout 10 tail --pid="$pid" -f /dev/null || fail "$model $i: still running 10 s after SIGTERM"
		wait "$pid"
		expect "$model $i: exit" $? 0
		rss=$(sed -n 's/^ *resident *\([0-9]*\) kB$/\1/p' "$out" | head -1)
		[ -n "$rss" ] && [ "$rss" -gt 0 ] || fail "$model $i: the summary's resident is '$rss': $(cat "$out")"
		threads=$(sed -n 's/^ *threads *\([0-9]*\).*/\1/p' "$out" | head -1)
		[ -n "$threads" ] && [ "$threads" -ge 2 ] ||
			fail "$model $i: the summary's threads is '$threads' (2 workers at least)"
	done
done
echo PASS
