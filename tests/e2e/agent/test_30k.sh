#!/bin/bash
# e2e.agent.30k: 30,000 verified connections from 127.0.0.1 + 127.0.0.2 to ONE
# server port -- past the 28,232 ports one source address gets.
#
# One process may hold < 20,000 fds here (hard limit, cannot be raised), so the
# server runs as 2 processes (SO_REUSEPORT) and the load as 2 agents of 15,000,
# each rotating over both source addresses. While both hold, ss counts the
# established client sockets per source address; once it has seen all of them
# and both agents have reported their hold (their echo phase over), or after
# 60 s, both agents are interrupted, which ends their hold: exit 1,
# "interrupted", and the counts so far. (ss seeing every socket is not enough:
# under ASan the echo rounds were still running, echo_ok 12,676 of 15,000.) A fixed hold would have to outlast the
# slower agent's connect phase, which SYN retransmits stretch on a busy host.
AGENT=$1 SERVER=$2
. "$(dirname "$0")/lib.sh"

HALF=$(scaled 15000)
start_listener srv "$SERVER" --listen 127.0.0.1:0 --model epoll --processes 2
for i in 1 2; do
	"$AGENT" --target 127.0.0.1:$PORT -n $HALF --rounds 1 --hold 90 --connect-timeout 10000 \
		--echo-timeout 10000 --source-ip 127.0.0.1,127.0.0.2 --json \
		>"$WORK/a$i.json" 2>"$WORK/a$i.err" &
	eval "A${i}_PID=$!"
done
best=0 s1=0 s2=0
for i in $(seq 240); do
	kill -0 $A1_PID 2>/dev/null || kill -0 $A2_PID 2>/dev/null || break
	ss -Htn state established "( dport = :$PORT )" >"$WORK/ss.txt" 2>/dev/null
	total=$(wc -l <"$WORK/ss.txt")
	if [ "$total" -gt "$best" ]; then
		best=$total
		s1=$(grep -c ' 127\.0\.0\.1:[0-9]* *127\.0\.0\.1:' "$WORK/ss.txt")
		s2=$(grep -c ' 127\.0\.0\.2:[0-9]* *127\.0\.0\.1:' "$WORK/ss.txt")
	fi
	if [ "$best" -ge $((2 * HALF)) ] && grep -q '^agent: hold' "$WORK/a1.err" &&
		grep -q '^agent: hold' "$WORK/a2.err"; then
		break
	fi
	sleep 0.25
done
kill -INT $A1_PID $A2_PID 2>/dev/null
wait $A1_PID
r1=$?
wait $A2_PID
r2=$?
stop_listener srv
echo "peak established client sockets: $best (from 127.0.0.1: $s1, from 127.0.0.2: $s2)"
expect "agent 1 exit (interrupted in its hold)" $r1 1
expect "agent 2 exit (interrupted in its hold)" $r2 1
for i in 1 2; do
	grep -q "interrupted; results so far" "$WORK/a$i.err" || fail "agent $i: $(cat "$WORK/a$i.err")"
	expect "agent $i established" "$(jq .established "$WORK/a$i.json")" $HALF
	expect "agent $i echo_ok" "$(jq .echo_ok "$WORK/a$i.json")" $HALF
	expect "agent $i failed" "$(jq '[.failed[]] | add' "$WORK/a$i.json")" 0
done
expect "established at once" $best $((2 * HALF))
expect "per source (127.0.0.1, 127.0.0.2)" "$s1 $s2" "$HALF $HALF"
echo PASS
