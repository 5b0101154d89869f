#!/bin/bash
# e2e: SIGINT during the hold of a local run. The coordinator stops the
# agents, gathers what they measured, writes the report with status
# "aborted", exits 3, and leaves no server or agent process behind.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-interrupt", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2}, "connections": 1000, "hold_s": 60,
 "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"model": "threads", "stack_size": "64k"}}}
PLAN
"$coord" --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err" &
cpid=$!
for i in $(seq 150); do
	grep -q "] hold " "$WORK/err" && break
	sleep 0.1
done
grep -q "] hold " "$WORK/err" || fail "never reached the hold: $(cat "$WORK/err")"
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
jq -r .error "$r" | grep -Eq '^interrupted by a signal at t=[0-9.]+ s \((connect|echo|hold|verify)\)$' ||
	fail "the report does not say it was interrupted: $(jq -r .error "$r")"
expect "established kept" "$(jq -r .totals.established "$r")" 1000
expect "agents answered the stop" "$(jq -r '[.agents[] | select(.state == "done")] | length' "$r")" 2
expect "latency gathered" "$(jq -r .totals.latency.connect.count "$r")" 1000
grep -q "interrupted; stopping the agents" "$WORK/err" || fail "no interruption message"
for p in $children; do
	kill -0 "$p" 2>/dev/null && fail "local process $p left running"
done
echo "ok: local processes gone"
