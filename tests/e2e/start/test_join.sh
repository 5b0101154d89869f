#!/bin/bash
# e2e.start.join: while agents join, the status line counts them against the
# plan (agents 0/2, not 0/0) and names the missing ones: by agents.names, by
# local-N for a local plan, or as a count when the plan names nobody. Each
# agent's join line gives its share, and advice to raise a limit only when the
# share is above what the agent can hold.
COORD=$1 AGENT=$2
. "$(dirname "$0")/../agent/lib.sh"

# plan FILE NAMES_JSON: two agents expected on 127.0.0.1:9 (never reached), 3 s to join.
plan() {
	cat >"$1" <<PLAN
{
  "name": "join",
  "target": {"host": "127.0.0.1", "port": 9},
  "agents": {"count": 2, "join_timeout_s": 3$2},
  "connections": 10,
  "steps": [10]
}
PLAN
}

# Named agents, one of them started: 1/2, waiting for a2.
plan "$WORK/named.json" ', "names": ["a1", "a2"]'
"$COORD" --bind "ipc://$WORK/c1.ipc" --report "$WORK/r1.json" "$WORK/named.json" \
	>"$WORK/c1.out" 2>"$WORK/c1.err" &
cpid=$!
LPIDS="$LPIDS $cpid"
"$AGENT" --coordinator "ipc://$WORK/c1.ipc" --name a1 >/dev/null 2>&1 &
LPIDS="$LPIDS $!"
wait $cpid
expect "named, one missing: exit" $? 3
grep -q 'agents 1/2  waiting for a2$' "$WORK/c1.err" ||
	fail "no 'agents 1/2  waiting for a2' once a1 joined: $(grep join "$WORK/c1.err")"
grep -q 'agents [0-9]*/0' "$WORK/c1.err" && fail "a join status counts against 0"
echo "ok: agents 1/2  waiting for a2"
# Its join line: the capacity and its share, and no advice to raise a limit it does not need.
line=$(grep "agent a1 joined" "$WORK/c1.err")
[[ $line == *"(its share: 5)" ]] || fail "join line without the share: $line"
[[ $line == *"raise it"* ]] && fail "advice to raise a limit for a share of 5: $line"
echo "ok: $line"

# Nobody named, nobody started: 0/2, waiting for 2 more.
plan "$WORK/anon.json" ''
"$COORD" --bind "ipc://$WORK/c2.ipc" --report "$WORK/r2.json" "$WORK/anon.json" \
	>"$WORK/c2.out" 2>"$WORK/c2.err"
expect "anonymous, none joined: exit" $? 3
grep -q 'join .*agents 0/2  waiting for 2 more$' "$WORK/c2.err" ||
	fail "no 'agents 0/2  waiting for 2 more': $(cat "$WORK/c2.err")"
echo "ok: agents 0/2  waiting for 2 more"
# An aborted run measured nothing: its thresholds are listed, not judged.
grep -q '^  thresholds (not judged: the run was aborted):$' "$WORK/c2.out" ||
	fail "aborted run's thresholds: $(cat "$WORK/c2.out")"
grep -Eq '^ +(ok|FAIL) ' "$WORK/c2.out" && fail "an aborted run judged a threshold: $(cat "$WORK/c2.out")"
echo "ok: an aborted run's thresholds are not judged"

# An agent lost while others join gives its place back: a1 joins and is killed;
# once it is lost (15 beats: nobody else is heard) a2 and a new a1 take the two
# places and the run goes on to its first connect (to port 9: nothing accepts
# there, which then stops it, exit 3) instead of aborting on the dead a1.
plan "$WORK/die.json" ', "names": ["a1", "a2"]'
jq '.agents.join_timeout_s = 60' "$WORK/die.json" >"$WORK/die2.json"
"$COORD" --bind "ipc://$WORK/c4.ipc" --report "$WORK/r4.json" "$WORK/die2.json" \
	>"$WORK/c4.out" 2>"$WORK/c4.err" &
cpid=$!
LPIDS="$LPIDS $cpid"
"$AGENT" --coordinator "ipc://$WORK/c4.ipc" --name a1 >/dev/null 2>&1 &
a1=$!
for i in $(seq 100); do grep -q "agent a1 joined" "$WORK/c4.err" && break; sleep 0.1; done
kill -KILL $a1
for i in $(seq 250); do grep -q "agent a1 left before the run started" "$WORK/c4.err" && break; sleep 0.1; done
grep -q "agent a1 left before the run started (silent for 15 s (no agent at all was heard)); its place is open again" \
	"$WORK/c4.err" || fail "a1's place: $(cat "$WORK/c4.err")"
for n in a1 a2; do
	"$AGENT" --coordinator "ipc://$WORK/c4.ipc" --name $n >/dev/null 2>&1 &
	LPIDS="$LPIDS $!"
done
wait $cpid
expect "a place given back: exit (the run went on to its connect; nothing accepts at port 9)" $? 3
expect "a place given back: agents" "$(jq -c '[.agents[] | [.name, .state]] | sort' "$WORK/r4.json")" \
	'[["a1","done"],["a2","done"]]'
expect "a place given back: the connect's verdict" "$(jq -r .error "$WORK/r4.json" | cut -d: -f1-2)" \
	"nothing accepts connections at 127.0.0.1:9"
echo "ok: a lost joiner's place was taken and the run went on"

# A share above the agent's capacity (64 open files, 1,000 connections each): the advice stays.
plan "$WORK/big.json" ', "names": ["a1", "a2"]'
jq '.connections = 2000 | .steps = [2000]' "$WORK/big.json" >"$WORK/big2.json"
"$COORD" --bind "ipc://$WORK/c3.ipc" --report "$WORK/r3.json" "$WORK/big2.json" \
	>"$WORK/c3.out" 2>"$WORK/c3.err" &
cpid=$!
LPIDS="$LPIDS $cpid"
(ulimit -Sn 64 && ulimit -Hn 64 && exec "$AGENT" --coordinator "ipc://$WORK/c3.ipc" --name a1) \
	>/dev/null 2>&1 &
LPIDS="$LPIDS $!"
wait $cpid
line=$(grep "agent a1 joined" "$WORK/c3.err")
[[ $line == *"raise it"*"(its share: 1,000)" ]] || fail "join line for a share of 1,000 on 64 files: $line"
echo "ok: $line"
echo PASS
