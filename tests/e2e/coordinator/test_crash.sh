#!/bin/bash
# e2e: a coordinator killed with SIGKILL mid-run keeps what it measured.
# Real processes on loopback: a server, two agents, a coordinator running a
# two-step plan (300 then 600 connections). Once step 1's report is on disk
# the coordinator is killed (-9) during step 2. Then:
#  - report.json exists, parses, says "running" (ended_at null, updated_at set),
#    and has exactly step 1, held == established == the level (300), per agent
#    too, each agent "running";
#  - nothing else is left in the report's directory but, at most, the one
#    temporary file a write cut short would leave (report.json.tmp.<its pid>);
#  - the agents, their coordinator silent, close every connection (the dead
#    man's switch): each says so, and the server's own count drops to 0
#    within 20 s of the kill.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2 server=$3 probe=$4

ms() { echo $(($(date +%s%N) / 1000000)); }

start_stats_server "$server" --model epoll
for n in 1 2; do
	"$agent" --coordinator "ipc://$WORK/c.ipc" --name a$n --source-ip 127.0.0.4$n \
		>"$WORK/a$n.out" 2>&1 &
	LPIDS="$LPIDS $!"
done

# Step 2 takes a second to connect (300 at 300/s) and holds 3 s: a window of
# seconds between step 1's checkpoint and the next write.
cat >"$WORK/plan.json" <<PLAN
{"name": "e2e-crash", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 2, "join_timeout_s": 15}, "connections": 600,
 "steps": [300, 600], "ramp": {"rate_per_s": 300},
 "echo": {"rounds": 1}, "hold_s": 3,
 "server": {"stats": "$STATS", "interval_ms": 250}}
PLAN
mkdir "$WORK/out"
r=$WORK/out/report.json
"$coord" --bind "ipc://$WORK/c.ipc" --report "$r" "$WORK/plan.json" \
	>"$WORK/coord.out" 2>"$WORK/coord.err" &
cpid=$!
LPIDS="$LPIDS $cpid"

# Step 1's checkpoint: the first report with one step in it.
for i in $(seq 600); do
	[ "$(jq -r '.steps | length' "$r" 2>/dev/null)" = 1 ] && break
	kill -0 $cpid 2>/dev/null || break
	sleep 0.05
done
[ "$(jq -r '.steps | length' "$r" 2>/dev/null)" = 1 ] ||
	fail "no report with step 1 alone (the run ended, or 30 s passed): steps $(jq -r '.steps | length' "$r" 2>/dev/null), status $(jq -r .status "$r" 2>/dev/null); $(cat "$WORK/coord.err")"
kill -KILL $cpid
killed=$(ms)
wait $cpid 2>/dev/null
echo "ok: the coordinator killed after step 1's report"

jq -e . "$r" >/dev/null || fail "report.json does not parse: $(cat "$r")"
expect "status" "$(jq -r .status "$r")" running
expect "ended_at" "$(jq -r .ended_at "$r")" null
jq -r .updated_at "$r" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' ||
	fail "updated_at: $(jq -r .updated_at "$r")"
expect "steps" "$(jq -c '[.steps[] | [.connections, .established, .held]]' "$r")" "[[300,300,300]]"
expect "step 1 held_ratio" "$(jq -r '.steps[0].held_ratio' "$r")" 1
expect "step 1 server conns" "$(jq -r '.steps[0].server.conns_current' "$r")" 300
expect "agents' held_steps" "$(jq -c '[.agents[].held_steps[0]] | add' "$r")" 300
expect "agents' states" "$(jq -c '[.agents[].state]' "$r")" '["running","running"]'
expect "totals.held" "$(jq -r .totals.held "$r")" 300
expect "plan kept" "$(jq -c .plan.steps "$r")" "[300,600]"

# What the directory holds: the report and at most the temporary file a write
# cut short leaves (this coordinator's pid in its name); nothing else.
left=$(cd "$WORK/out" && ls -A | grep -vx report.json | grep -vx "report.json.tmp.$cpid")
[ -z "$left" ] || fail "left behind: $left"
echo "ok: no stray files ($(ls -A "$WORK/out" | tr '\n' ' '))"

# The dead man's switch: agents close, the server sees every connection go.
got=$("$probe" "$STATS" 0 20000)
took=$(($(ms) - killed))
[ "$got" = 0 ] || fail "the server still holds $got connections 20 s after the kill"
echo "ok: the server's count reached 0 ${took} ms after the kill"
for n in 1 2; do
	grep -q "the coordinator is silent for [0-9]* ms: closing [0-9]* connections" "$WORK/a$n.out" ||
		fail "agent a$n did not say it closed: $(cat "$WORK/a$n.out")"
done
echo "ok: both agents closed by the dead man's switch"
