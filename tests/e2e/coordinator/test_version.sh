#!/bin/bash
# e2e: an agent speaking protocol version 2 is refused, and both sides say so
# naming both versions; the coordinator, left without agents, exits 3.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 old_agent=$2

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-version", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 3}, "connections": 10}
PLAN
ep="ipc://$WORK/coord.ipc"
"$coord" --quiet --bind "$ep" --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err" &
cpid=$!
"$old_agent" "$ep" 2 >"$WORK/agent.out"
expect "old agent was answered" "$?" 0
grep -q "protocol version 2 is not supported" "$WORK/agent.out" ||
	fail "agent side: $(cat "$WORK/agent.out")"
wait $cpid
expect "coordinator exit" "$?" 3
grep -q "protocol version 2 is not supported (this side speaks version 1)" "$WORK/err" ||
	fail "coordinator side: $(cat "$WORK/err")"
expect "status" "$(jq -r .status "$WORK/report.json")" aborted
grep -q "0 of 1 agents joined" <(jq -r .error "$WORK/report.json") || fail "error: $(jq -r .error "$WORK/report.json")"
expect "dropped messages" "$(jq -r '.dropped_messages >= 2' "$WORK/report.json")" true
grep -q "dropped a message from old-agent: not JSON" "$WORK/err" || fail "garbage not logged: $(cat "$WORK/err")"
