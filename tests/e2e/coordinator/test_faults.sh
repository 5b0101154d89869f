#!/bin/bash
# e2e fault tests with separately started processes (as on real hosts):
#  1. kill -9 one agent during the hold: it is marked lost within ~5 s (5
#     beats of silence while the other agent is heard), the run goes on, the
#     report keeps the other agent's full numbers, status "degraded", exit 3;
#  2. kill -9 the coordinator during the hold: the agents' dead man's switch
#     (8 beats) closes every connection, so the server's count falls to 0;
#  3. one agent frozen (SIGSTOP) for 7 s of the hold, then let go: it is lost,
#     and once it speaks again it is told so and closes its connections at
#     once (the server's count falls to the other agent's 1,000 while the run
#     still holds), told once or twice rather than at every message;
#  4. the only agent frozen for 10 s (past its 8 s dead man's switch, within
#     the coordinator's 15 beats for a run where nobody is heard): the
#     coordinator's heartbeats wait in its socket, so once thawed it reads
#     them, keeps its connections and the run passes.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2 server=$3 probe=$4
src=127.0.0.21

start_stats_server "$server" --model epoll
stats=$STATS

plan() { # plan NAME HOLD_S
	cat <<PLAN
{"name": "$1", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 2, "join_timeout_s": 15}, "connections": 2000,
 "echo": {"rounds": 1}, "hold_s": $2,
 "server": {"stats": "$stats", "interval_ms": 200}}
PLAN
}

start_agents() { # start_agents ENDPOINT
	for n in a b; do
		"$agent" --coordinator "$1" --name "$n" --source-ip $src >"$WORK/agent-$n.out" 2>&1 &
		eval "agent_${n}_pid=$!"
		LPIDS="$LPIDS $!"
	done
}

# 1. An agent killed during the hold.
plan kill-agent 8 >"$WORK/plan1.json"
ep1="ipc://$WORK/coord1.ipc"
start_agents "$ep1"
"$coord" --bind "$ep1" --report "$WORK/r1.json" "$WORK/plan1.json" >"$WORK/c1.out" 2>"$WORK/c1.err" &
cpid=$!
"$probe" "$stats" 2000 20000 >/dev/null || fail "the server never held 2000: $(cat "$WORK/c1.err")"
sleep 1 # into the hold
kill -KILL "$agent_a_pid"
killed=$(date +%s%N)
for i in $(seq 100); do
	grep -q "agent a lost" "$WORK/c1.err" && break
	sleep 0.1
done
grep -q "agent a lost: silent for 5 s" "$WORK/c1.err" || fail "a not marked lost: $(cat "$WORK/c1.err")"
took=$((($(date +%s%N) - killed) / 1000000))
[ "$took" -le 6500 ] || fail "marked lost after $took ms"
echo "ok: agent a marked lost $took ms after kill -9"
wait $cpid
expect "coordinator exit" "$?" 3
r=$WORK/r1.json
expect status "$(jq -r .status "$r")" degraded
expect "a state" "$(jq -r '.agents[] | select(.name == "a") | .state' "$r")" lost
expect "a kept numbers" "$(jq -r '.agents[] | select(.name == "a") | .established' "$r")" 1000
expect "b state" "$(jq -r '.agents[] | select(.name == "b") | .state' "$r")" done
expect "b established" "$(jq -r '.agents[] | select(.name == "b") | .established' "$r")" 1000
expect "b echo ok" "$(jq -r '.agents[] | select(.name == "b") | .echo_ok' "$r")" 1000
expect "b latency" "$(jq -r '.agents[] | select(.name == "b") | .latency.echo.count' "$r")" 1000
expect "lost agents" "$(jq -r .totals.lost_agents "$r")" 1
# The step's plateau counts only what b still held: a's connections died with it.
expect "held at the plateau" "$(jq -r '.steps[0].held' "$r")" 1000
expect "held_ratio" "$(jq -r .totals.held_ratio "$r")" 0.5
expect "a held" "$(jq -r '.agents[] | select(.name == "a") | .held' "$r")" 0
# a's 1,000 sockets died with it; b closed its own: the server is empty again.
"$probe" "$stats" 0 10000 >/dev/null || fail "server still holds connections"
kill -KILL "$agent_b_pid" 2>/dev/null

# 2. The coordinator killed during the hold.
plan kill-coordinator 30 >"$WORK/plan2.json"
ep2="ipc://$WORK/coord2.ipc"
start_agents "$ep2"
"$coord" --bind "$ep2" --report "$WORK/r2.json" "$WORK/plan2.json" >"$WORK/c2.out" 2>"$WORK/c2.err" &
cpid=$!
"$probe" "$stats" 2000 20000 >/dev/null || fail "the server never held 2000 (run 2)"
kill -KILL $cpid
killed=$(date +%s%N)
"$probe" "$stats" 0 15000 >/dev/null || fail "connections left open after the coordinator died"
took=$((($(date +%s%N) - killed) / 1000000))
echo "ok: server back to 0 connections $took ms after the coordinator was killed"
grep -q "coordinator is silent" "$WORK/agent-a.out" || fail "agent a: $(cat "$WORK/agent-a.out")"
[ ! -e "$WORK/r2.json" ] || fail "a killed coordinator cannot have written a report"
for p in $agent_a_pid $agent_b_pid; do
	kill -0 "$p" 2>/dev/null || fail "agent $p died instead of going idle"
done
kill -KILL $agent_a_pid $agent_b_pid 2>/dev/null

# 3. An agent frozen past the lost timeout, then back.
plan freeze-agent 20 >"$WORK/plan3.json"
ep3="ipc://$WORK/coord3.ipc"
start_agents "$ep3"
"$coord" --bind "$ep3" --report "$WORK/r3.json" "$WORK/plan3.json" >"$WORK/c3.out" 2>"$WORK/c3.err" &
cpid=$!
"$probe" "$stats" 2000 20000 >/dev/null || fail "the server never held 2000 (run 3)"
sleep 1 # into the hold
kill -STOP "$agent_a_pid"
sleep 7
kill -CONT "$agent_a_pid"
thawed=$(date +%s%N)
"$probe" "$stats" 1000 5000 >/dev/null || fail "a's connections still open 5 s after it was thawed: $(cat "$WORK/agent-a.out")"
took=$((($(date +%s%N) - thawed) / 1000000))
echo "ok: the server holds b's 1,000 only, $took ms after a was thawed"
grep -q "agent a lost: silent for 5 s while the others answered" "$WORK/c3.err" ||
	fail "a not lost: $(cat "$WORK/c3.err")"
told=$(grep -c "stopped by the coordinator: this agent was counted lost" "$WORK/agent-a.out")
[ "$told" -ge 1 ] && [ "$told" -le 2 ] || fail "a was told $told times: $(cat "$WORK/agent-a.out")"
wait $cpid
expect "coordinator exit (run 3)" "$?" 3
r=$WORK/r3.json
expect "run 3: a state" "$(jq -r '.agents[] | select(.name == "a") | .state' "$r")" lost
expect "run 3: b held" "$(jq -r '.agents[] | select(.name == "b") | .held' "$r")" 1000
expect "run 3: held" "$(jq -r .steps[0].held "$r")" 1000
kill -KILL $agent_a_pid $agent_b_pid 2>/dev/null

# 4. The only agent frozen past its dead man's switch, then back.
cat >"$WORK/plan4.json" <<PLAN
{"name": "freeze-alone", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 1, "join_timeout_s": 15}, "connections": 1000,
 "echo": {"rounds": 1}, "hold_s": 16,
 "server": {"stats": "$stats", "interval_ms": 200}}
PLAN
ep4="ipc://$WORK/coord4.ipc"
"$agent" --coordinator "$ep4" --name solo --source-ip $src >"$WORK/agent-solo.out" 2>&1 &
solo=$!
LPIDS="$LPIDS $solo"
"$coord" --bind "$ep4" --report "$WORK/r4.json" "$WORK/plan4.json" >"$WORK/c4.out" 2>"$WORK/c4.err" &
cpid=$!
"$probe" "$stats" 1000 20000 >/dev/null || fail "the server never held 1000 (run 4)"
sleep 1 # into the hold
kill -STOP $solo
sleep 10
kill -CONT $solo
wait $cpid
rc=$?
[ $rc = 0 ] || cat "$WORK/c4.err" "$WORK/agent-solo.out" >&2
expect "run 4: exit" "$rc" 0
expect "run 4: held" "$(jq -r .totals.held "$WORK/r4.json")" 1000
grep -q "the coordinator is silent" "$WORK/agent-solo.out" &&
	fail "the thawed agent took queued heartbeats for silence: $(cat "$WORK/agent-solo.out")"
grep -q "no agent was heard for 1[0-9]\.[0-9] s" "$WORK/c4.err" ||
	fail "the coordinator did not say nobody was heard: $(cat "$WORK/c4.err")"
echo "ok: a lone agent frozen 10 s kept its 1,000 and the run passed"
stop_listener server
