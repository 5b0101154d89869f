#!/bin/bash
# e2e, hostile peers on the control plane (real ZeroMQ peers, tests/e2e/security/peer.py):
#  1. forged routing id "a1\0x" (hello, bye, a result of 1,000,000): a run of 400
#     connections with the real a1 passes unchanged (400 established, 400 held),
#     every forged message dropped and counted;
#  2. an agent that breaks the protocol (a result before go, a second hello, a
#     phase_done claiming 999,999 of its 200, a result mid-run): each dropped and
#     counted, never acted on; its honest answers are; lies within the protocol
#     (failure counters that wrap, 10^15 latencies, a step's held past its level)
#     are refused, and an honest agent's numbers beside them stay whole;
#  3. with CURVE, a name is its key file's (x1.pub admits x1): another
#     authorized key sending under that name is dropped;
#  4. a flood of 900 KB messages for 10 s from a stranger: both agents keep their
#     heartbeats (none lost), the run passes, and the log stays short.
. "$(dirname "$0")/lib.sh"
coord=$1 AGENT=$2 server=$3
src=127.0.0.44
peer() { /usr/bin/python3 "$(dirname "$0")/peer.py" "$@"; }
/usr/bin/python3 -c 'import zmq' 2>/dev/null || fail "python3-zmq missing: run scripts/deps"

start_server "$server"

plan_n() { # plan_n NAME AGENTS CONNECTIONS HOLD_S
	cat <<PLAN
{"name": "$1", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": $2, "join_timeout_s": 10}, "connections": $3,
 "echo": {"rounds": 1}, "hold_s": $4}
PLAN
}

# coordinator NAME [ARGS...]: in the background on a free loopback port; sets CPID, EP.
coordinator() {
	local name=$1
	shift
	"$coord" --bind 'tcp://127.0.0.1:*' --report "$WORK/$name-r.json" "$@" "$WORK/$name.json" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	CPID=$!
	EP=$(wait_bound "$WORK/$name.err")
}

# 1. A forged identity: the same name with a NUL and more behind it.
plan_n forge 1 400 3 >"$WORK/forge.json"
coordinator forge
start_agent a1 --coordinator "$EP" --source-ip $src
peer "$EP" forge "$(printf 'a1\0x' | od -An -tx1 | tr -d ' \n')" 2 >"$WORK/forge-peer.out" ||
	fail "peer: $(cat "$WORK/forge-peer.out")"
wait $CPID
expect "forged: exit" "$?" 0
r=$WORK/forge-r.json
expect "forged: status" "$(jq -r .status "$r")" pass
expect "forged: agents" "$(jq -r '.agents | length' "$r")" 1
expect "forged: established" "$(jq -r .totals.established "$r")" 400
expect "forged: held" "$(jq -r .totals.held "$r")" 400
expect "forged: a1" "$(jq -r '.agents[0] | "\(.name) \(.state)"' "$r")" "a1 done"
sent=$(sed -n 's/^peer: forge sent //p' "$WORK/forge-peer.out")
[ "$(jq -r .dropped_messages "$r")" -ge "$sent" ] ||
	fail "forged: $sent forged messages, $(jq -r .dropped_messages "$r") dropped"
grep -q 'dropped a message from a1\\x00x: its routing id is not an agent name' "$WORK/forge.err" ||
	fail "forged: not named in the log: $(cat "$WORK/forge.err")"
kill -TERM $AGENT_PID

# 2. An agent that breaks the protocol at every step.
plan_n liar 1 200 0 >"$WORK/liar.json"
coordinator liar
peer "$EP" liar p1 >"$WORK/liar-peer.out" || fail "peer: $(cat "$WORK/liar-peer.out")"
wait $CPID
expect "liar: exit" "$?" 0
r=$WORK/liar-r.json
expect "liar: state" "$(jq -r '.agents[0].state' "$r")" done
expect "liar: held (its honest claim)" "$(jq -r .totals.held "$r")" 200
expect "liar: established" "$(jq -r .totals.established "$r")" 200
expect "liar: dropped" "$(jq -r .dropped_messages "$r")" 4
for why in "a result before the agent was told to close" "hello in the middle of the run" \
	"999999 connections open, but it was assigned 200"; do
	grep -q "dropped a message from p1: $why" "$WORK/liar.err" ||
		fail "liar: '$why' not said: $(cat "$WORK/liar.err")"
done
grep -q "peer: result acknowledged" "$WORK/liar-peer.out" || fail "liar: $(cat "$WORK/liar-peer.out")"

# 2b. Lies within the protocol, beside an honest agent whose numbers must stay whole.
cheat_plan() { # cheat_plan NAME: 2 agents (h1 real, c1 the cheat), steps [100, 200]
	cat <<PLAN
{"name": "$1", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 2, "join_timeout_s": 10, "names": ["h1", "c1"]}, "connections": 200,
 "steps": [100, 200], "echo": {"rounds": 1}, "hold_s": 0}
PLAN
}
for lie in wrapfail fasthist overstep; do
	cheat_plan "$lie" >"$WORK/$lie.json"
	coordinator "$lie"
	start_agent h1 --coordinator "$EP" --source-ip $src
	peer "$EP" cheat c1 "$lie" >"$WORK/$lie-peer.out" || fail "peer: $(cat "$WORK/$lie-peer.out")"
	wait $CPID
	code=$?
	r=$WORK/$lie-r.json
	h1=$(jq -c '.agents[] | select(.name == "h1") | [.state, .held_steps, ([.failed[]] | add)]' "$r")
	expect "$lie: the honest agent" "$h1" '["done",[50,100],0]'
	case $lie in
	wrapfail | fasthist)
		# The lie marks the cheat lost: the run is degraded, and its numbers stay out.
		expect "$lie: exit" "$code" 3
		expect "$lie: cheat" "$(jq -r '.agents[] | select(.name == "c1") | .state' "$r")" lost
		jq -r '.agents[] | select(.name == "c1") | .why' "$r" | grep -q "its result is impossible" ||
			fail "$lie: $(jq -c '.agents[] | select(.name == "c1")' "$r")"
		expect "$lie: failures" "$(jq -r '[.totals.failed[]] | add' "$r")" 0
		expect "$lie: echo latencies" "$(jq -r .totals.latency.echo.count "$r")" 150
		;;
	overstep)
		expect "$lie: exit" "$code" 0
		expect "$lie: held per step" "$(jq -c '[.steps[].held]' "$r")" "[100,200]"
		expect "$lie: dropped" "$(jq -r .dropped_messages "$r")" 1
		;;
	esac
	kill -TERM $AGENT_PID
	wait $AGENT_PID 2>/dev/null
done

# 2c. Lies in a load's figures: the liar is lost at once, saying which (not
#     left to run out the phase's deadline), and the honest agent's load stays whole.
for lie in unsent slowclock nolatency; do
	cat >"$WORK/$lie.json" <<PLAN
{"name": "$lie", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 2, "join_timeout_s": 10, "names": ["h1", "c1"]}, "connections": 200,
 "echo": {"rounds": 1}, "load": {"rate_per_s": 1000, "duration_s": 1}, "hold_s": 0}
PLAN
	coordinator "$lie"
	start_agent h1 --coordinator "$EP" --source-ip $src
	started=$(date +%s)
	peer "$EP" worklie c1 "$lie" >"$WORK/$lie-peer.out" || fail "peer: $(cat "$WORK/$lie-peer.out")"
	wait $CPID
	code=$?
	took=$(($(date +%s) - started))
	r=$WORK/$lie-r.json
	expect "$lie: exit (degraded)" "$code" 3
	expect "$lie: cheat" "$(jq -r '.agents[] | select(.name == "c1") | .state' "$r")" lost
	why=$(jq -r '.agents[] | select(.name == "c1") | .why' "$r")
	case $lie in
	unsent) want="load: 1000 verified and 0 failed of 0 started" ;;
	slowclock) want="load: 1e+06 s elapsed" ;;
	nolatency) want="load: 0 latencies for 100 verified" ;;
	esac
	case $why in
	"its counts are impossible: $want"*) ;;
	*) fail "$lie: why '$why', expected it to begin 'its counts are impossible: $want'" ;;
	esac
	# At once: the load's 1 s and the rest of the run, not its 31 s deadline.
	[ "$took" -lt 20 ] || fail "$lie: the run took $took s"
	expect "$lie: the honest agent's load" \
		"$(jq -c '[.steps[0].load[0] | .sent, .verified] | map(. >= 500)' "$r")" "[true,true]"
	grep -q "peer: stop" "$WORK/$lie-peer.out" || fail "$lie: not told: $(cat "$WORK/$lie-peer.out")"
	kill -TERM $AGENT_PID
	wait $AGENT_PID 2>/dev/null
done

# 3. CURVE: a name stays with the key it joined with.
for n in coordinator x1 x2; do "$coord" --gen-keys "$WORK/keys" --name $n >/dev/null || fail "gen-keys $n"; done
mkdir "$WORK/authorized"
cp "$WORK/keys/x1.pub" "$WORK/keys/x2.pub" "$WORK/authorized/"
K=$WORK/keys
plan_n keyed 2 20 0 >"$WORK/keyed.json"
sed -i 's/"join_timeout_s": 10/"join_timeout_s": 6/' "$WORK/keyed.json"
coordinator keyed --curve-secret "$K/coordinator.key" --authorized-agents "$WORK/authorized"
peer "$EP" join-leave x1 "$K/x1.pub" "$K/x1.key" "$K/coordinator.pub" 1 >"$WORK/keyed-1.out"
grep -q "peer: joined" "$WORK/keyed-1.out" || fail "x1 did not join: $(cat "$WORK/keyed-1.out" "$WORK/keyed.err")"
peer "$EP" impostor x1 "$K/x2.pub" "$K/x2.key" "$K/coordinator.pub" 2 >"$WORK/keyed-2.out"
wait $CPID
expect "keyed: exit (x2 never joined)" "$?" 3
grep -q "dropped a message from x1: a name its key does not carry" \
	"$WORK/keyed.err" || fail "keyed: impostor not refused: $(cat "$WORK/keyed.err")"
grep -q "agent x1 lost: it left" "$WORK/keyed.err" && fail "keyed: the impostor's bye was taken"
echo "ok: keyed: another key cannot speak for x1"

# 4. A stranger floods the coordinator with 900 KB messages for 10 s.
plan_n flood 2 2000 10 >"$WORK/flood.json"
coordinator flood
start_agent f1 --coordinator "$EP" --source-ip $src
start_agent f2 --coordinator "$EP" --source-ip $src
peer "$EP" flood junk 10 900 >"$WORK/flood-peer.out" &
fpid=$!
wait $CPID
code=$?
wait $fpid
expect "flood: exit" "$code" 0
r=$WORK/flood-r.json
expect "flood: lost agents" "$(jq -r .totals.lost_agents "$r")" 0
expect "flood: held" "$(jq -r .totals.held "$r")" 2000
sent=$(sed -n 's/^peer: flood sent //p' "$WORK/flood-peer.out")
[ "${sent:-0}" -gt 100 ] || fail "flood: the peer sent only '$sent'"
# Progress lines aside (one a second), a few lines a window at most.
lines=$(grep -vc '^\[' "$WORK/flood.err")
[ "$lines" -le 20 ] || fail "flood: $lines log lines for $sent junk messages: $(cat "$WORK/flood.err")"
grep -q "more messages from agents not in this run not shown" "$WORK/flood.err" ||
	fail "flood: the suppressed lines are not summed up"
for n in f1 f2; do
	grep -q "silent" "$WORK/agent-$n.out" && fail "flood: agent $n heard nothing: $(cat "$WORK/agent-$n.out")"
done
echo "ok: flood: $sent messages of 900 KB, $lines log lines, no agent lost"
