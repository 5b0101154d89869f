#!/bin/bash
# e2e: what the server says it holds reconciles with the kernel's own count, and
# so do the page fragments its threads keep (server_stats.page_frag_kb). Two
# workers hold N echoed connections; then one worker is killed (SIGKILL): its
# connections end without a word from it, and the supervisor must take them,
# and its threads' fragments, off its figures.
#   threads: page_frag_kb = (connections whose thread has sent) x the fragment size
#   epoll:   page_frag_kb = (event loops that have sent) x the fragment size
# The reference count is ss's: established sockets whose local end is the server's.
#
# usage: test_server_held.sh SERVER AGENT STATS_DUMP MODEL SOURCE_IP
. "$(dirname "$0")/../agent/lib.sh"
server=$1 agent=$2 stats_dump=$3 model=$4 source=$5
n=$(scaled 400)
page_kb=$(($(getconf PAGESIZE) / 1024))
frag_kb=$((page_kb > 32 ? page_kb : 32)) # SKB_FRAG_PAGE_ORDER: 32 KiB, or one larger page

# held_by_kernel: the server's established sockets, as ss counts them.
held_by_kernel() {
	ss -Htn state established src "127.0.0.1:$PORT" | wc -l
}

start_stats_server "$server" --model "$model" --processes 2 --stack-size 64k
stats_sample s0
expect "page fragments at start" "$(stats_field s0 page_frag_kb)" 0

"$agent" --target "127.0.0.1:$PORT" -n "$n" --rounds 1 --hold 30 \
	--source-ip "$source" --threads 2 >"$WORK/agent.out" 2>"$WORK/agent.err" &
agent_pid=$!
LPIDS="$LPIDS $agent_pid"

# Held and echoed: the agent's one round has every connection echo once, so
# every thread (threads) or both event loops (epoll; 2^-N that one got none)
# will have sent. Waited for (30 s at most), then checked exactly.
if [ "$model" = threads ]; then want_frag=$((n * frag_kb)); else want_frag=$((2 * frag_kb)); fi
for i in $(seq 300); do
	stats_sample held
	[ "$(stats_field held conns_current)" = "$n" ] && [ "$(stats_field held page_frag_kb)" = "$want_frag" ] && break
	kill -0 "$agent_pid" 2>/dev/null || fail "agent ended early: $(cat "$WORK/agent.out" "$WORK/agent.err")"
	sleep 0.1
done
expect "connections held" "$(stats_field held conns_current)" "$n"
expect "connections held, by ss" "$(held_by_kernel)" "$n"
expect "page fragments held ($model)" "$(stats_field held page_frag_kb)" "$want_frag"
# kernel_kb_per_conn counts them: it is the host's three deltas and the fragments, / N.
/usr/bin/python3 - "$WORK/held.json" "$model" "$frag_kb" <<'PY' || fail "kernel_kb_per_conn leaves the fragments out"
import json, sys
s, model, frag = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
parts = s["kernel_stack_kb"] + s["slab_kb"] + s["page_tables_kb"] + s["page_frag_kb"]
want = parts / s["conns_current"]
# Exactly the four parts (page_frag_kb was checked above). Not "at least the fragment": the
# host's deltas may be far below zero when others free memory (a CI run read -60.6 a connection).
ok = abs(s["kernel_kb_per_conn"] - want) < 1e-6
print(("ok" if ok else "FAIL") + f": kernel_kb_per_conn {s['kernel_kb_per_conn']:.2f} = {want:.2f}",
      file=sys.stdout if ok else sys.stderr)
sys.exit(0 if ok else 1)
PY

# One worker killed: its share of the connections is gone (the kernel closes
# its sockets), and the supervisor, once it reaps it, must say so.
victim=$(pgrep -P "$server_PID" | head -n 1)
[ -n "$victim" ] || fail "no worker process under the server (pid $server_PID)"
kill -KILL "$victim"
for i in $(seq 50); do
	stats_sample after
	kernel=$(held_by_kernel)
	[ "$(stats_field after conns_current)" = "$kernel" ] && [ "$kernel" -lt "$n" ] && break
	sleep 0.1
done
stats_sample after
kernel=$(held_by_kernel)
[ "$kernel" -lt "$n" ] && [ "$kernel" -gt 0 ] ||
	fail "expected the killed worker to take some but not all of the $n connections, ss counts $kernel"
expect "connections held after a worker was killed" "$(stats_field after conns_current)" "$kernel"
if [ "$model" = threads ]; then
	expect "page fragments after a worker was killed" "$(stats_field after page_frag_kb)" \
		$((kernel * frag_kb))
else
	expect "page fragments after a worker was killed" "$(stats_field after page_frag_kb)" "$frag_kb"
fi
grep -q "server: worker [01] (pid $victim) killed by signal 9; restarting it" "$WORK/server.err" ||
	fail "the supervisor did not say it restarted the worker: $(cat "$WORK/server.err")"
echo "figures: $model, $n held, page_frag_kb $(stats_field held page_frag_kb); after the kill $kernel held," \
	"page_frag_kb $(stats_field after page_frag_kb)"

kill -TERM "$agent_pid" 2>/dev/null
wait "$agent_pid" 2>/dev/null
stop_listener server
grep -q "^  page fragments  " "$WORK/server.out" ||
	fail "summary has no page fragments line: $(cat "$WORK/server.out")"
echo "PASS"
