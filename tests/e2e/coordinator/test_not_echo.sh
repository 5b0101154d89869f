#!/bin/bash
# e2e: a server that accepts connections but is not an echo server (issue 14).
# Its first echo phase verifies no connection; the coordinator then stops the
# run at once (status aborted, exit 3) with one line that says so, instead of
# running every step into the same echo timeouts. Three servers
# (tests/e2e/coordinator/not_echo.py, through local.server.command):
#   sink      reads, never writes: "N of N connections waited 5 s for a reply in vain"
#   garble    answers with other bytes: "... replied with bytes that differ ..."
#   noaccept  never accept()s: the accept wait ends after 10 s without progress
#             (not its 60 s bound), then the echo says "waited ... in vain"
#   closer    accepts and closes at once: "no connection stayed open" after the connect,
#             or "it closed or reset ..." after the echo
# And an echo server that exits (status 7) in the first hold: the run stops at once (exit 3,
# aborted), saying how, when and where; the agents' 20 connections are counted as closed
# by the server, not hidden.
# And with no echo rounds but a churn (the echo check cannot run), a sink fails
# by the default threshold churn_failed == 0: status fail, exit 1.
. "$(dirname "$0")/lib.sh"
coord=$1 src=$2
py=/usr/bin/python3
[ -x $py ] || py=python3

# run MODE: a 2-step local plan (20, then 40 connections) against not_echo.py MODE.
run() {
	cat >"$WORK/$1.json" <<PLAN
{
  "name": "not-echo-$1",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 40,
  "steps": [20, 40],
  "echo": {"payload_bytes": 64, "rounds": 2},
  "hold_s": 1,
  "server": {"interval_ms": 200},
  "local": {"agents": 2, "server": {"command": ["$py", "$src/tests/e2e/coordinator/not_echo.py",
                                                "{port}", "$1"]}}
}
PLAN
	t0=$(date +%s)
	"$coord" --report "$WORK/$1-r.json" "$WORK/$1.json" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	took=$(($(date +%s) - t0))
}

# check MODE SECONDS LINE: exit 3, the line on stderr once and as the report's
# error, status aborted, no step completed, and no more than SECONDS taken.
check() {
	local r=$WORK/$1-r.json
	expect "$1: exit" "$rc" 3
	[ "$(grep -cxF "coordinator: step 1: $3" "$WORK/err")" = 1 ] ||
		fail "$1: no line 'coordinator: step 1: $3'"
	grep -q "step 2" "$WORK/err" && fail "$1: the run went on to step 2"
	expect "$1: status" "$(jq -r .status "$r")" aborted
	expect "$1: error" "$(jq -r .error "$r")" "$3"
	expect "$1: steps completed" "$(jq '.steps | length' "$r")" 0
	expect "$1: echo ok" "$(jq .totals.echo_ok "$r")" 0
	grep -qF "error: $3" "$WORK/out" || fail "$1: the summary does not show the error"
	[ "$took" -lt "$2" ] || fail "$1: took $took s (bound $2 s)"
	! pgrep -f "not_echo.py [0-9]* $1\$" >/dev/null || fail "$1: the server was left running"
	echo "ok: $1: exit 3 in $took s: $3"
}

run sink
expect "sink: failed by timeout" "$(jq .totals.failed.timeout "$WORK/sink-r.json")" 20
# Nothing measured reads null, not 0: no plateau (held, held_ratio and their threshold), no
# echo latency (count 0), and what a watched server's view from outside cannot count.
expect "sink: nulls not measured" "$(jq -c '[.totals.held, .totals.held_ratio,
	(.thresholds[] | select(.expr | startswith("held_ratio")) | .value),
	.totals.latency.echo.count, .totals.latency.echo.p50, .totals.latency.echo.max,
	.agents[0].held, .server.final.conns_total, .server.final.refused, .server.final.resets,
	.server.user_kb_per_conn]' "$WORK/sink-r.json")" "[null,null,null,0,null,null,null,null,null,null,null]"
# ... and the summary shows a dash for it: the total row's echo p50 and p99.
expect "sink: summary echo p50/p99" "$(awk '$1 == "total" {print $(NF-1), $NF}' "$WORK/out")" "- -"
check sink 20 "not an echo server (or slower than echo.timeout_ms): 20 of 20 connections waited 5 s for a reply in vain"

run garble
expect "garble: failed by mismatch" "$(jq .totals.failed.mismatch "$WORK/garble-r.json")" 20
check garble 20 "not an echo server: 20 of 20 connections replied with bytes that differ from what was sent"

run noaccept
grep -qx "coordinator: step 1: the server holds none of the agents' 20 connections: it accepted none in 10 s; the echo goes on" "$WORK/err" ||
	fail "noaccept: no line about the stalled accept wait"
check noaccept 30 "not an echo server (or slower than echo.timeout_ms): 20 of 20 connections waited 5 s for a reply in vain"

# A closer is caught after the connect when the agents saw every close by then, else by
# the echo (each close seen as a FIN or, meeting the echo's bytes, a reset): either sentence.
run closer
port=$(jq -r .target.port "$WORK/closer-r.json")
said=$(jq -r .error "$WORK/closer-r.json")
printf '%s\n' "$said" | grep -Eqx "no connection stayed open at 127.0.0.1:$port: 20 tried, none held \\((20 eof_early|20 reset|[0-9]+ reset, [0-9]+ eof_early|[0-9]+ eof_early, [0-9]+ reset)\\)|not an echo server: it closed or reset 20 of 20 connections before replying" ||
	fail "closer: error '$said'"
check closer 25 "$said"

# No echo rounds, a churn: every churn connection fails; the defaults fail the run.
cat >"$WORK/churn.json" <<PLAN
{"name": "not-echo-churn", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2, "join_timeout_s": 20}, "connections": 10,
 "echo": {"payload_bytes": 64, "rounds": 0, "timeout_ms": 1000},
 "churn": {"rate_per_s": 10, "duration_s": 1}, "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"command": ["$py", "$src/tests/e2e/coordinator/not_echo.py",
                                               "{port}", "sink"]}}}
PLAN
"$coord" --report "$WORK/churn-r.json" "$WORK/churn.json" >"$WORK/out" 2>"$WORK/err"
expect "churn, no rounds: exit" "$?" 1
expect "churn, no rounds: status" "$(jq -r .status "$WORK/churn-r.json")" fail
expect "churn, no rounds: the default churn threshold" \
	"$(jq -c '[.thresholds[] | select(.expr == "churn_failed == 0") | .value, .ok]' "$WORK/churn-r.json")" "[10,false]"
echo "ok: a churn against a sink fails by churn_failed == 0"

# dies: 20 connections, 2 echo rounds (its 40 replies), then a 5 s hold it does not outlive.
cat >"$WORK/dies.json" <<PLAN
{"name": "not-echo-dies", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2, "join_timeout_s": 20}, "connections": 40, "steps": [20, 40],
 "echo": {"payload_bytes": 64, "rounds": 2}, "hold_s": 5, "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"command": ["$py", "$src/tests/e2e/coordinator/not_echo.py",
                                               "{port}", "dies"]}}}
PLAN
t0=$(date +%s)
"$coord" --report "$WORK/dies-r.json" "$WORK/dies.json" >"$WORK/out" 2>"$WORK/err"
rc=$?
took=$(($(date +%s) - t0))
r=$WORK/dies-r.json
expect "dies: exit" "$rc" 3
expect "dies: status" "$(jq -r .status "$r")" aborted
said=$(jq -r .error "$r")
printf '%s\n' "$said" | grep -Eqx "local\.server\.command \(pid [0-9]+\) exited with status 7 at t=[0-9]+\.[0-9] s \(hold, step 1\)" ||
	fail "dies: error '$said'"
[ "$(grep -cxF "coordinator: $said; the run stops" "$WORK/err")" = 1 ] || fail "dies: no line '$said; the run stops'"
grep -q "step 2" "$WORK/err" && fail "dies: the run went on to step 2"
grep -qF "error: $said" "$WORK/out" || fail "dies: the summary does not show the error"
expect "dies: steps completed" "$(jq '.steps | length' "$r")" 0
expect "dies: connections verified by the echo" "$(jq .totals.echo_ok "$r")" 20
expect "dies: agents done" "$(jq -c '[.agents[].state]' "$r")" '["done","done"]'
expect "dies: connections closed by the server, counted" \
	"$(jq '.totals.failed.eof_early + .totals.failed.reset' "$r")" 20
expect "dies: nothing dropped" "$(jq .dropped_messages "$r")" 0
[ "$took" -lt 15 ] || fail "dies: took $took s (a 5 s hold it should have cut short)"
! pgrep -f "not_echo.py [0-9]* dies\$" >/dev/null || fail "dies: the server was left running"
echo "ok: dies: exit 3 in $took s: $said"
