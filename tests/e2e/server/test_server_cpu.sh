#!/bin/bash
# e2e: the server's CPU and context switches (server_stats cpu_user_s, cpu_sys_s,
# ctxsw_voluntary, ctxsw_involuntary) count every thread, including the ones that
# have exited. A threads-model server serves N connections x ROUNDS echo rounds
# (a thread each), held for a while, then closed: the figures grow while they
# are served and do not drop once their threads are gone. The host's CPU split
# is there and sane.
#
# usage: test_server_cpu.sh SERVER AGENT STATS_DUMP MODEL PROCESSES SOURCE_IP
. "$(dirname "$0")/../agent/lib.sh"
server=$1 agent=$2 stats_dump=$3 model=$4 processes=$5 source=$6
n=$(scaled 2000)
rounds=50

# check PYTHON-EXPR: true or fail, with the samples' figures in the message.
# The samples are s0 (before), held (connections open), closed (all gone).
check() {
	/usr/bin/python3 - "$WORK" "$1" <<'PY' || fail "$1"
import json, sys
work, expr = sys.argv[1], sys.argv[2]
s = {k: json.load(open(f"{work}/{k}.json")) for k in ("s0", "held", "closed")}
cpu = {k: v["cpu_user_s"] + v["cpu_sys_s"] for k, v in s.items()}
vol = {k: v["ctxsw_voluntary"] for k, v in s.items()}
inv = {k: v["ctxsw_involuntary"] for k, v in s.items()}
ok = eval(expr)
print(("ok: " if ok else "FAIL: ") + expr, "| cpu", cpu, "voluntary", vol, "involuntary", inv,
      file=sys.stdout if ok else sys.stderr)
sys.exit(0 if ok else 1)
PY
}

start_stats_server "$server" --model "$model" --processes "$processes" --stack-size 64k
stats_sample s0

"$agent" --target "127.0.0.1:$PORT" -n "$n" --rounds "$rounds" --hold 2 \
	--source-ip "$source" --threads 2 >"$WORK/agent.out" 2>"$WORK/agent.err" &
agent_pid=$!
LPIDS="$LPIDS $agent_pid"

# Held: every connection open. The echo rounds run before the hold; give them
# a moment so the held sample includes them, then sample while the threads live.
for i in $(seq 300); do
	stats_sample held
	[ "$(stats_field held conns_current)" = "$n" ] && break
	kill -0 "$agent_pid" 2>/dev/null || break
	sleep 0.1
done
expect "connections held" "$(stats_field held conns_current)" "$n"
sleep 0.5
stats_sample held

wait "$agent_pid" || fail "agent failed: $(cat "$WORK/agent.out" "$WORK/agent.err")"
# Closed: every connection gone, and two publishing periods (100 ms each, see
# server_usage_tick) so the workers' figures include their threads' ends.
for i in $(seq 100); do
	stats_sample closed
	[ "$(stats_field closed conns_current)" = "0" ] && break
	sleep 0.1
done
expect "connections closed" "$(stats_field closed conns_current)" 0
sleep 0.3
stats_sample closed
expect "connections served" "$(stats_field closed conns_total)" "$n"

# Serving cost CPU, and it is still counted once the threads that spent it exited.
check 'cpu["held"] > cpu["s0"]'
check 'cpu["closed"] >= cpu["held"] and cpu["closed"] > 0'
check 'vol["closed"] >= vol["held"] >= vol["s0"] and inv["closed"] >= inv["held"] >= inv["s0"]'
# A lower bound that holds whatever the scheduling: threads model, every
# connection's thread sleeps in recv() at least once, during the hold (the
# agent sends nothing for 2 s, so recv must wait), and a sleep in a blocking
# call is a voluntary switch. The thread has exited by "closed", so this also
# checks exited threads' switches are kept. (Each round may or may not wait:
# the request can be there before the thread asks, so rounds give no bound.)
# epoll: one loop waits for all its connections at once; only >= 1 is certain.
if [ "$model" = threads ]; then
	check "vol['closed'] - vol['s0'] >= $n"
else
	check "vol['closed'] - vol['s0'] >= 1"
fi
# The host's split since the server started: all present, none negative, and
# the host did spend time (idle or busy) over these seconds.
check 'all(s["closed"][k] >= 0 for k in ("host_cpu_user_s", "host_cpu_sys_s", "host_cpu_softirq_s", "host_cpu_idle_s"))'
check 'sum(s["closed"][k] for k in ("host_cpu_user_s", "host_cpu_sys_s", "host_cpu_softirq_s", "host_cpu_idle_s")) > 0.5'

# The figures, for whoever reads the log.
/usr/bin/python3 - "$WORK" "$model" "$processes" "$n" "$rounds" <<'PY'
import json, sys
work, model, procs, n, rounds = sys.argv[1:]
a, b = (json.load(open(f"{work}/{k}.json")) for k in ("s0", "closed"))
d = lambda k: b[k] - a[k]
print(f"figures: {model} x{procs}, {n} connections x {rounds} rounds: "
      f"cpu user {d('cpu_user_s'):.3f} s sys {d('cpu_sys_s'):.3f} s, "
      f"ctxsw voluntary {d('ctxsw_voluntary')} involuntary {d('ctxsw_involuntary')}; "
      f"host user {b['host_cpu_user_s']:.2f} sys {b['host_cpu_sys_s']:.2f} "
      f"softirq {b['host_cpu_softirq_s']:.2f} idle {b['host_cpu_idle_s']:.2f} s")
PY

stop_listener server
grep -q "^  cpu  *[0-9.]* s user, [0-9.]* s sys$" "$WORK/server.out" ||
	fail "summary has no cpu line: $(cat "$WORK/server.out")"
echo "PASS"
