#!/bin/bash
# e2e: a fenced agent refuses an assignment outside its allowed networks
# before it opens a single socket; the coordinator fails the run (exit 3) with
# the agent's reason. The target, 198.18.0.1, is never contacted.
. "$(dirname "$0")/lib.sh"
coord=$1 AGENT=$2

plan fenced 198.18.0.1 9 10 >"$WORK/plan.json"
ep="ipc://$WORK/c.ipc"
start_agent fenced --coordinator "$ep" --source-ip 127.0.0.44
"$coord" --quiet --bind "$ep" --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "coordinator exit" "$?" 3
why="target 198.18.0.1:9 is outside this agent's allowed networks (127.0.0.0/8); see agent --allow-target"
grep -qF "agent fenced refused its slice: $why" <(jq -r .error "$WORK/r.json") || fail "error: $(jq -r .error "$WORK/r.json")"
expect "agent state" "$(jq -r .agents[0].state "$WORK/r.json")" rejected
expect "nothing attempted" "$(jq -r .agents[0].attempted "$WORK/r.json")" 0
grep -qF "agent fenced: refusing the assignment: $why" "$WORK/agent-fenced.out" || fail "agent: $(cat "$WORK/agent-fenced.out")"
grep -qF "$why" "$WORK/err" "$WORK/out" || fail "the reason is not on the coordinator's output: $(cat "$WORK/err" "$WORK/out")"
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null

# The same agent with the target's network allowed takes the slice (then finds
# nothing listening on 127.0.0.1:9: a run failure, but not a refusal).
plan widened 127.0.0.1 9 10 >"$WORK/plan2.json"
start_agent fenced --coordinator "$ep" --source-ip 127.0.0.44 --allow-target 10.0.0.0/8,127.0.0.1/32
"$coord" --quiet --bind "$ep" --report "$WORK/r2.json" "$WORK/plan2.json" >"$WORK/out" 2>"$WORK/err"
expect "widened: agent state" "$(jq -r .agents[0].state "$WORK/r2.json")" done
grep -q "refusing the assignment" "$WORK/agent-fenced.out" && fail "refused: $(cat "$WORK/agent-fenced.out")"
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null
exit 0
