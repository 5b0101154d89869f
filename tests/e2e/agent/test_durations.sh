#!/bin/bash
# e2e.agent.durations: one grammar for durations (NUMBER[ms|s|m|h], fractions
# allowed, as the plan's hold_s: 2.5): --hold 1.5 holds a second and a half
# against a real server; a bad duration exits 2 naming the option and the value.
AGENT=$1 SERVER=$2
. "$(dirname "$0")/lib.sh"

start_listener server "$SERVER" --listen 127.0.0.1:0

# hold_for ARGS...: runs the agent, prints its wall time in ms; exit status kept.
hold_for() {
	local t0 t1 rc
	t0=$(date +%s%N)
	"$AGENT" --target 127.0.0.1:$PORT -n 4 --json "$@" >"$WORK/agent.out" 2>"$WORK/agent.err"
	rc=$?
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
	return $rc
}

ms=$(hold_for --hold 1.5 --connect-timeout 2.5s --echo-timeout 5s)
expect "--hold 1.5: exit" $? 0
[ "$ms" -ge 1500 ] || fail "--hold 1.5 held only $ms ms"
echo "ok: --hold 1.5 took $ms ms"
grep -q '"established":4' "$WORK/agent.out" || fail "4 established: $(cat "$WORK/agent.out")"

ms=$(hold_for --hold 300ms --interval 0.01s)
expect "--hold 300ms: exit" $? 0
[ "$ms" -ge 300 ] || fail "--hold 300ms held only $ms ms"
echo "ok: --hold 300ms took $ms ms"

out=$("$AGENT" --target 127.0.0.1:$PORT -n 4 --hold 1,5 2>&1)
expect "--hold 1,5: exit" $? 2
expect "--hold 1,5: message" "$out" \
	"agent: --hold: expected a duration in seconds (e.g. 1.5, 250ms, 2m), got '1,5'"
out=$("$AGENT" --target 127.0.0.1:$PORT -n 4 --echo-timeout 2h 2>&1)
expect "--echo-timeout 2h: exit" $? 2
expect "--echo-timeout 2h: message" "$out" \
	"agent: --echo-timeout: expected a duration from 1 ms to 3600 s, got '2h'"

stop_listener server
echo PASS
