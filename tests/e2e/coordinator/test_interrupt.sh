#!/bin/bash
# e2e: SIGINT during the hold of a local run. The coordinator stops the
# agents, gathers what they measured, writes the report with status
# "aborted", exits 3, and leaves no server or agent process behind.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

# wait_hold ERR: until the coordinator's progress (its stderr, ERR) says hold; 15 s at most.
wait_hold() {
	local i
	for i in $(seq 150); do
		grep -q "] hold " "$1" && return
		sleep 0.1
	done
	fail "never reached the hold: $(cat "$1")"
}

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-interrupt", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2}, "connections": 1000, "hold_s": 60,
 "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"model": "threads", "stack_size": "64k"}}}
PLAN
"$coord" --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err" &
cpid=$!
wait_hold "$WORK/err"
children=$(pgrep -P $cpid | tr '\n' ' ')
[ -n "$children" ] || fail "no local processes found"
kill -INT $cpid
start=$(date +%s)
wait $cpid
expect "exit code" "$?" 3
took=$(($(date +%s) - start))
[ $took -le 15 ] || fail "took $took s to stop"
r=$WORK/report.json
expect status "$(jq -r .status "$r")" aborted
jq -r .error "$r" | grep -Eq '^interrupted by SIGINT at t=[0-9.]+ s \((connect|echo|hold|verify)\)$' ||
	fail "the report does not say it was interrupted: $(jq -r .error "$r")"
expect "established kept" "$(jq -r .totals.established "$r")" 1000
expect "agents answered the stop" "$(jq -r '[.agents[] | select(.state == "done")] | length' "$r")" 2
expect "latency gathered" "$(jq -r .totals.latency.connect.count "$r")" 1000
grep -q "interrupted; stopping the agents" "$WORK/err" || fail "no interruption message"
for p in $children; do
	kill -0 "$p" 2>/dev/null && fail "local process $p left running"
done
echo "ok: local processes gone"

# interrupt_twice NAME: SIGINT to the coordinator ($cpid), 1 s, SIGINT again, and its exit:
# 3 within 4.5 s of the first, and not after the 5 s SIGTERM alone gets (its stderr,
# $WORK/errNAME, must not say it waited them). Sets took_ms.
interrupt_twice() {
	local start_ms rc
	kill -INT "$cpid"
	start_ms=$(date +%s%3N)
	sleep 1
	kill -INT "$cpid" 2>/dev/null
	wait "$cpid"
	rc=$?
	took_ms=$(($(date +%s%3N) - start_ms))
	expect "exit code after two signals ($1)" "$rc" 3
	grep -q "did not stop within 5 s of SIGTERM" "$WORK/err$1" &&
		fail "waited the 5 s after all ($1): $(cat "$WORK/err$1")"
	[ "$took_ms" -lt 4500 ] ||
		fail "took $took_ms ms to stop after two signals ($1): $(cat "$WORK/err$1")"
}

# A second SIGINT: a local.server.command that ignores SIGTERM is killed at
# once, not after the 5 s that SIGTERM is given to work, and nothing is left.
echo_server=$(cd "$(dirname "$0")/../server" && pwd)/echo_server.py
cat >"$WORK/plan2.json" <<PLAN
{"name": "e2e-interrupt-twice", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 1}, "connections": 50, "hold_s": 60,
 "local": {"agents": 1, "server": {"command": ["/bin/sh", "-c",
   "trap '' TERM; exec /usr/bin/python3 $echo_server --port {port}"]}}}
PLAN
"$coord" --report "$WORK/report2.json" "$WORK/plan2.json" >"$WORK/out2" 2>"$WORK/err2" &
cpid=$!
wait_hold "$WORK/err2"
# This coordinator's command, not another test's echo server (e2e.server.watch runs them too).
group=$(pgrep -P "$cpid" -f "$echo_server --port" | head -n 1)
[ -n "$group" ] || fail "no echo server found under the coordinator (pid $cpid)"
interrupt_twice 2
grep -q "a second signal: killing the local processes now" "$WORK/err2" ||
	fail "the second signal was not acknowledged: $(cat "$WORK/err2")"
kill -0 "$group" 2>/dev/null && fail "the command (pid $group) was left running: $(ps -o pid,ppid,stat,cmd -p "$group")"
expect "plan2 status" "$(jq -r .status "$WORK/report2.json")" aborted
echo "ok: a second signal stopped it in $took_ms ms"

# The same while the coordinator still waits for the command to listen (it
# sleeps first, and ignores SIGTERM): the second SIGINT cuts that stop too.
cat >"$WORK/plan3.json" <<PLAN
{"name": "e2e-interrupt-startup", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 1}, "connections": 10,
 "local": {"agents": 1, "server": {"ready_timeout_s": 30, "command": ["/bin/sh", "-c",
   "trap '' TERM; sleep 21.5; exec /usr/bin/python3 $echo_server --port {port}"]}}}
PLAN
"$coord" --report "$WORK/report3.json" "$WORK/plan3.json" >"$WORK/out3" 2>"$WORK/err3" &
cpid=$!
for i in $(seq 100); do
	pgrep -f "sleep 21.5" >/dev/null && break
	sleep 0.1
done
sleeper=$(pgrep -f "sleep 21.5" | head -n 1)
[ -n "$sleeper" ] || fail "the command did not start: $(cat "$WORK/err3")"
sleep 0.5
interrupt_twice 3
kill -0 "$sleeper" 2>/dev/null && fail "the command's child (pid $sleeper) was left running"
echo "ok: a second signal at start-up stopped it in $took_ms ms"
