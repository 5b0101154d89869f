#!/bin/bash
# e2e: the CURVE control plane with real processes on loopback.
#  1. the right key is admitted: the run passes, server stats come over CURVE
#     (the server admits only the coordinator's key);
#  2. an unknown agent key is refused: the agent never joins, the coordinator
#     logs the key once and exits 3 with "0 of 1 agents joined";
#  3. a coordinator with the wrong key (impersonation): the agent refuses the
#     handshake and the impersonator sees nobody.
. "$(dirname "$0")/lib.sh"
coord=$1 AGENT=$2 server=$3 probe=$4
src=127.0.0.43

for who in coordinator server; do "$coord" --gen-keys "$WORK/keys" --name $who >/dev/null || fail "gen-keys $who"; done
"$AGENT" --gen-keys "$WORK/keys" --name good >/dev/null || fail "gen-keys good"
"$AGENT" --gen-keys "$WORK/rogue" --name good >/dev/null || fail "gen-keys rogue"
"$coord" --gen-keys "$WORK/fake" --name coordinator >/dev/null || fail "gen-keys fake"
mkdir "$WORK/agents" "$WORK/stats-clients"
cp "$WORK/keys/good.pub" "$WORK/agents/"
cp "$WORK/keys/good.pub" "$WORK/fake/" # the impersonator would even admit the agent
cp "$WORK/keys/coordinator.pub" "$WORK/stats-clients/"
K=$WORK/keys

start_server "$server" --curve-secret "$K/server.key" --authorized-keys "$WORK/stats-clients"
grep -q "server: stats endpoint: CURVE, authorized client keys only" "$WORK/server.out" ||
	fail "server: $(cat "$WORK/server.out")"
# A client without keys gets nothing from the secured endpoint.
"$probe" "$STATS" >/dev/null 2>&1 && fail "a plain client read the CURVE stats endpoint"
echo "ok: plain stats client refused"

# 1. The right key, over tcp on loopback (a free port), stats over CURVE too.
plan good 127.0.0.1 "$PORT" 15 "$STATS" >"$WORK/plan1.json"
"$coord" --bind 'tcp://127.0.0.1:*' --curve-secret "$K/coordinator.key" --authorized-agents "$WORK/agents" \
	--stats-key "$K/server.pub" --report "$WORK/r1.json" "$WORK/plan1.json" >"$WORK/c1.out" 2>"$WORK/c1.err" &
cpid=$!
ep=$(wait_bound "$WORK/c1.err")
start_agent good --coordinator "$ep" --source-ip $src --curve-secret "$K/good.key" --coordinator-key "$K/coordinator.pub"
wait $cpid
expect "right key: coordinator exit" "$?" 0
grep -q "coordinator: 1 authorized key in $WORK/agents" "$WORK/c1.err" || fail "key count: $(cat "$WORK/c1.err")"
grep -q "coordinator: agent good joined" "$WORK/c1.err" || fail "$(cat "$WORK/c1.err")"
expect "right key: status" "$(jq -r .status "$WORK/r1.json")" pass
expect "right key: agents" "$(jq -r '[.agents[].name] | join(",")' "$WORK/r1.json")" good
expect "right key: echo ok" "$(jq -r .agents[0].echo_ok "$WORK/r1.json")" 20
expect "stats over CURVE" "$(jq -r '(.server.samples | length) > 0' "$WORK/r1.json")" true
grep -q "the coordinator holds the expected key" "$WORK/agent-good.out" || fail "agent: $(cat "$WORK/agent-good.out")"
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null

# 2. An agent whose key is not authorized, under the authorized agent's name.
plan refused 127.0.0.1 "$PORT" 3 >"$WORK/plan2.json"
ep="ipc://$WORK/c2.ipc"
start_agent good --coordinator "$ep" --source-ip $src --curve-secret "$WORK/rogue/good.key" --coordinator-key "$K/coordinator.pub"
"$coord" --quiet --bind "$ep" --curve-secret "$K/coordinator.key" --authorized-agents "$WORK/agents" \
	--report "$WORK/r2.json" "$WORK/plan2.json" >"$WORK/c2.out" 2>"$WORK/c2.err"
expect "unknown key: coordinator exit" "$?" 3
rogue=$(cat "$WORK/rogue/good.pub")
expect "unknown key logged once" "$(grep -cF "coordinator: refused an agent with unknown key $rogue" "$WORK/c2.err")" 1
grep -q "joined" "$WORK/c2.err" && fail "the refused agent joined: $(cat "$WORK/c2.err")"
expect "unknown key: status" "$(jq -r .status "$WORK/r2.json")" aborted
grep -q "0 of 1 agents joined" <(jq -r .error "$WORK/r2.json") || fail "error: $(jq -r .error "$WORK/r2.json")"
expect "unknown key: agents in report" "$(jq -r '.agents | length' "$WORK/r2.json")" 0
expect "unknown key: dropped messages" "$(jq -r .dropped_messages "$WORK/r2.json")" 0
grep -q "refused this agent's key" "$WORK/agent-good.out" || fail "agent: $(cat "$WORK/agent-good.out")"
grep -q "joined run" "$WORK/agent-good.out" && fail "agent says it joined: $(cat "$WORK/agent-good.out")"
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null

# 3. A coordinator holding another key than the agent was told to trust.
ep="ipc://$WORK/c3.ipc"
start_agent good --coordinator "$ep" --source-ip $src --curve-secret "$K/good.key" --coordinator-key "$K/coordinator.pub"
"$coord" --quiet --bind "$ep" --curve-secret "$WORK/fake/coordinator.key" --authorized-agents "$WORK/fake" \
	--report "$WORK/r3.json" "$WORK/plan2.json" >"$WORK/c3.out" 2>"$WORK/c3.err"
expect "impersonator: exit" "$?" 3
grep -q "joined\|refused" "$WORK/c3.err" && fail "the impersonator saw the agent: $(cat "$WORK/c3.err")"
expect "impersonator: agents in report" "$(jq -r '.agents | length' "$WORK/r3.json")" 0
grep -q "0 of 1 agents joined" <(jq -r .error "$WORK/r3.json") || fail "error: $(jq -r .error "$WORK/r3.json")"
grep -q "CURVE handshake with $ep failed: it is not the coordinator of --coordinator-key $K/coordinator.pub" \
	"$WORK/agent-good.out" || fail "agent: $(cat "$WORK/agent-good.out")"
expect "agent handshake failure said once" "$(grep -c "CURVE handshake" "$WORK/agent-good.out")" 1
grep -q "joined run" "$WORK/agent-good.out" && fail "agent joined the impersonator"
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null
stop_listener server
