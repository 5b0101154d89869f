#!/bin/bash
# e2e.coordinator.accept_lag: the echo waits for the server to accept.
#
# The agents' connect phase ends when the kernel has completed the handshakes;
# a server behind on accept() still has them in its backlog. Here the server is
# frozen (SIGSTOP) while one agent opens 600 connections at 300/s (2 s), and
# thawed 1.5 s after all 600 are established. The kernel completes every
# handshake meanwhile (backlog 4096), so the agent's connect phase ends in
# about 2 s, and only then does the server accept. The coordinator must wait
# for it before the echo (the step's accept_lag_s >= 1.0 s, complete), so the
# echo measures echo, not the backlog (echo p99 < 1,000 ms, where without the
# wait each echo would have waited out the freeze: >= 1,500 ms).
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2 server=$3

start_stats_server "$server" --model threads
procs="$server_PID $(pgrep -P "$server_PID" | tr '\n' ' ')"
cat >"$WORK/plan.json" <<PLAN
{"name": "accept-lag", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 1, "join_timeout_s": 15}, "connections": 600,
 "ramp": {"rate_per_s": 300}, "echo": {"rounds": 1},
 "server": {"stats": "$STATS", "interval_ms": 200}}
PLAN
ep="ipc://$WORK/coord.ipc"
"$agent" --coordinator "$ep" --name a --source-ip 127.0.0.22 >"$WORK/agent.out" 2>&1 &
LPIDS="$LPIDS $!"
"$coord" --bind "$ep" --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/c.out" 2>"$WORK/c.err" &
cpid=$!
count() { ss -Htn state established "( dport = :$PORT )" | wc -l; }
for i in $(seq 300); do
	[ "$(count)" -gt 0 ] && break
	sleep 0.05
done
kill -STOP $procs
for i in $(seq 200); do
	[ "$(count)" -ge 600 ] && break
	sleep 0.05
done
established=$(count)
sleep 1.5
kill -CONT $procs
wait $cpid
expect "coordinator exit" $? 0
expect "established while the server was frozen" "$established" 600
R=$WORK/r.json
expect "accept lag measured to the end" "$(jq .steps[0].accept_lag_complete "$R")" true
jq -e '.steps[0].accept_lag_s >= 1.0' "$R" >/dev/null ||
	fail "accept_lag_s $(jq .steps[0].accept_lag_s "$R"), expected >= 1.0: $(cat "$WORK/c.err")"
jq -e '.steps[0].latency.echo.p99 < 1000' "$R" >/dev/null ||
	fail "the echo measured the backlog: $(jq -c .steps[0].latency.echo "$R")"
expect "echo ok" "$(jq .totals.echo_ok "$R")" 600
echo PASS
