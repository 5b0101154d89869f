#!/bin/bash
# e2e: the coordinator's ipc:// socket file.
#  1. removed on every exit: normal (nobody joined), SIGINT, and an error
#     after the bind (a server.stats endpoint that cannot be used);
#  2. a stale one left by a coordinator killed with -9 does not break the next
#     run: an agent already waiting on the path joins it and the run passes;
#  3. a live one (another coordinator) is not taken over: exit 2, and the
#     first coordinator still gets its agent;
#  4. a file that is not a socket is never deleted to make room: exit 2.
. "$(dirname "$0")/lib.sh"
coord=$1 AGENT=$2 server=$3
sock=$WORK/c.ipc ep="ipc://$WORK/c.ipc"

gone() { [ ! -e "$sock" ] || fail "$1: $sock is left behind"; echo "ok: $1: $sock removed"; }

plan nobody 127.0.0.1 9 1 >"$WORK/nobody.json"
timeout 20 "$coord" --quiet --bind "$ep" --report "$WORK/r.json" "$WORK/nobody.json" >/dev/null 2>"$WORK/err"
expect "nobody joined: exit" "$?" 3
gone "normal exit"

plan waiting 127.0.0.1 9 20 >"$WORK/waiting.json"
"$coord" --bind "$ep" --report "$WORK/r.json" "$WORK/waiting.json" >/dev/null 2>"$WORK/err" &
cpid=$!
LPIDS="$LPIDS $cpid"
wait_bound "$WORK/err" >/dev/null
[ -S "$sock" ] || fail "no socket at $sock while bound"
kill -INT $cpid
wait $cpid
expect "SIGINT: exit" "$?" 3
gone "SIGINT"

# server.stats that libzmq refuses to connect: coord_open fails after the bind.
jq '.server = {stats: "tcp://no port"}' "$WORK/nobody.json" >"$WORK/badstats.json"
timeout 20 "$coord" --bind "$ep" --report "$WORK/r.json" "$WORK/badstats.json" >/dev/null 2>"$WORK/err"
rc=$?
grep -q "waiting for agents on $ep" "$WORK/err" || fail "bad stats: not bound first: $(cat "$WORK/err")"
[ $rc -ne 0 ] || fail "bad stats: exit 0"
gone "error after the bind (exit $rc)"

# 2. A stale socket from a coordinator killed with -9; the agent starts first.
"$coord" --bind "$ep" --report "$WORK/r.json" "$WORK/waiting.json" >/dev/null 2>"$WORK/err" &
cpid=$!
wait_bound "$WORK/err" >/dev/null
{
	kill -KILL $cpid
	wait $cpid
} 2>/dev/null
[ -S "$sock" ] || fail "kill -9 left no socket to test with"
start_listener server "$server" --listen 127.0.0.1:0 --model epoll
plan stale 127.0.0.1 "$PORT" 15 >"$WORK/stale.json"
start_agent a1 --coordinator "$ep" --source-ip 127.0.0.45
sleep 0.5
timeout 30 "$coord" --bind "$ep" --report "$WORK/r2.json" "$WORK/stale.json" >/dev/null 2>"$WORK/err"
expect "after a stale socket: exit" "$?" 0
grep -qF "coordinator: removed a stale socket $sock (nobody listened on it)" "$WORK/err" || fail "$(cat "$WORK/err")"
expect "after a stale socket: echo ok" "$(jq -r .agents[0].echo_ok "$WORK/r2.json")" 20
gone "after the run that replaced a stale socket"

# 3. A live endpoint is not taken over; its coordinator still gets the agent.
# a1 stops first: it would join the next coordinator on the path at once, and its
# stop would then end that run (its only agent lost) before the second is tried.
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null
"$coord" --bind "$ep" --report "$WORK/r3.json" "$WORK/stale.json" >/dev/null 2>"$WORK/err3" &
cpid=$!
wait_bound "$WORK/err3" >/dev/null
timeout 10 "$coord" --bind "$ep" --report "$WORK/r4.json" "$WORK/stale.json" >/dev/null 2>"$WORK/err"
expect "second coordinator on a live endpoint: exit" "$?" 2
grep -qF "coordinator: --bind $ep: another process is listening there" "$WORK/err" || fail "$(cat "$WORK/err")"
start_agent a2 --coordinator "$ep" --source-ip 127.0.0.45
wait $cpid
expect "the first coordinator: exit" "$?" 0
expect "the first coordinator: agent" "$(jq -r '.agents[0].name' "$WORK/r3.json")" a2
gone "after the live run"
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null

# 4. Not a socket: refused, untouched.
echo "precious" >"$sock"
timeout 10 "$coord" --bind "$ep" --report "$WORK/r.json" "$WORK/nobody.json" >/dev/null 2>"$WORK/err"
expect "regular file at the ipc path: exit" "$?" 2
grep -qF "$sock exists and is not a socket" "$WORK/err" || fail "$(cat "$WORK/err")"
expect "regular file kept" "$(cat "$sock")" precious
stop_listener server
exit 0
