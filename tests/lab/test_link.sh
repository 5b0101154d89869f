#!/bin/bash
# lab.link: `lab partition` and `lab netem` do what they say and `down` undoes them.
#  - partition agent1 8: during it agent1 reaches nothing (its eth0 has no
#    carrier, 20 connects to the server all fail, none established), `status`
#    says so and a second partition of it is refused; after it 100 connect and echo;
#  - netem: with sch_netem, delay 50 makes a connect (one round trip) take at
#    least 100 ms and clearing it brings that back under 50 ms; without it
#    (this kernel), delay exits 77 saying so, and rate alone is a tbf on both ends
#    that `lab netem agent1` clears;
#  - bad arguments are refused (exit 1 or 2) and change nothing;
#  - `down` during a partition ends it at once and leaves no namespace.
# Without root: the lab's message and exit 77 (skipped).
set -u
LAB=$1 SERVER=$2 AGENT=$3

. "$(dirname "$0")/lib.sh"
lab_begin 1
PIDS=""
cleanup() {
	exec 2>/dev/null
	for p in $PIDS; do kill -KILL "$p"; done
	"$LAB" down >/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

"$LAB" up 1 >"$WORK/up.out" 2>&1 || fail "lab up: $(cat "$WORK/up.out")"
ready_start_server "$WORK/server" "$LAB" exec server "$SERVER" --listen 198.18.0.1:0 --model epoll
ok=$?
PIDS="$PIDS $SERVER_PID"
[ $ok = 0 ] || fail "the server did not start"

# load N: N connections from agent1 to the server, JSON in $WORK/load.json.
load() {
	"$LAB" exec agent1 "$AGENT" --target "198.18.0.1:$PORT" -n "$1" --source-ip 198.18.0.11 \
		--allow-target 198.18.0.0/15 --connect-timeout 1000 --echo-timeout 2000 --json \
		>"$WORK/load.json" 2>"$WORK/load.err"
}
j() { jq -r "$1" "$WORK/load.json"; }

load 100 || fail "before: $(cat "$WORK/load.err")"
expect "before: established" "$(j .established)" 100

# Partition.
"$LAB" partition agent1 8 >"$WORK/partition.out" 2>&1 &
ppid=$!
PIDS="$PIDS $ppid"
for _ in $(seq 100); do
	grep -q partitioned "$WORK/partition.out" && break
	sleep 0.05
done
grep -q "agent1: partitioned (csv-agent1 down) for 8 s" "$WORK/partition.out" ||
	fail "partition: $(cat "$WORK/partition.out")"
"$LAB" exec agent1 ip link show eth0 | grep -q NO-CARRIER || fail "agent1's eth0 has carrier"
"$LAB" status | grep -q "^agent1: partitioned at" || fail "status: $("$LAB" status)"
"$LAB" partition agent1 1 >"$WORK/again.out" 2>&1
expect "second partition: exit" $? 1
grep -q "agent1 is already partitioned" "$WORK/again.out" || fail "$(cat "$WORK/again.out")"
load 20
grep -q "link up again" "$WORK/partition.out" && fail "the partition ended before the load did"
expect "during: established" "$(j .established)" 0
expect "during: failed" "$(j '[.failed[]] | add')" 20
wait $ppid
expect "partition: exit" $? 0
grep -q "agent1: link up again" "$WORK/partition.out" || fail "$(cat "$WORK/partition.out")"
"$LAB" status | grep -q "partitioned" && fail "status still says partitioned"
load 100 || fail "after: $(cat "$WORK/load.err")"
expect "after: established" "$(j .established)" 100
expect "after: echo verified" "$(j .echo_ok)" 100

# Bad arguments.
for bad in "netem agent1 loss 101" "netem agent1 delay x" "netem agent1 rate fast" \
	"netem coordinator delay 5" "netem agent7 delay 5" "partition agent1 0" "partition agent1"; do
	# shellcheck disable=SC2086 # the words of a command line
	"$LAB" $bad >/dev/null 2>&1
	rc=$?
	[ $rc = 1 ] || [ $rc = 2 ] || fail "lab $bad: exit $rc"
done
echo "ok: bad arguments refused"
tc qdisc show dev csv-agent1 | grep -Eq "netem|tbf" && fail "a refused command changed the link"

# netem.
"$LAB" netem agent1 delay 50 >"$WORK/netem.out" 2>&1
rc=$?
if [ $rc = 0 ]; then
	load 20 || fail "with delay: $(cat "$WORK/load.err")"
	expect "delay 50: connect p50 >= 100 ms" "$(j '.latency.connect.p50 >= 100')" true
	"$LAB" netem agent1 >/dev/null || fail "clear"
	load 20 || fail "cleared: $(cat "$WORK/load.err")"
	expect "cleared: connect p50 < 50 ms" "$(j '.latency.connect.p50 < 50')" true
else
	expect "netem without sch_netem: exit" $rc 77
	grep -q "SKIP: this kernel has no netem qdisc" "$WORK/netem.out" || fail "$(cat "$WORK/netem.out")"
	echo "ok: no sch_netem here: delay and loss skipped"
	"$LAB" netem agent1 rate 1mbit >"$WORK/rate.out" 2>&1 || fail "rate: $(cat "$WORK/rate.out")"
	tc qdisc show dev csv-agent1 | grep -q "tbf .*rate 1Mbit" || fail "root end: $(tc qdisc show dev csv-agent1)"
	"$LAB" exec agent1 tc qdisc show dev eth0 | grep -q "tbf .*rate 1Mbit" || fail "agent1 end"
	"$LAB" status | grep -q "^agent1: tbf rate 1mbit, each way" || fail "status: $("$LAB" status)"
	load 20 || fail "with rate: $(cat "$WORK/load.err")"
	expect "rate 1mbit: echo verified" "$(j .echo_ok)" 20
	"$LAB" netem agent1 >/dev/null || fail "clear"
	tc qdisc show dev csv-agent1 | grep -q tbf && fail "not cleared"
	"$LAB" status | grep -q "^agent1: tbf" && fail "status after clear"
fi

# down during a partition: ended at once, nothing left.
"$LAB" partition agent1 60 >"$WORK/long.out" 2>&1 &
ppid=$!
for _ in $(seq 100); do
	grep -q partitioned "$WORK/long.out" && break
	sleep 0.05
done
"$LAB" down >"$WORK/down.out" 2>&1 || fail "down: $(cat "$WORK/down.out")"
for _ in $(seq 50); do
	kill -0 $ppid 2>/dev/null || break
	sleep 0.1
done
kill -0 $ppid 2>/dev/null && fail "the partition outlived down by 5 s"
expect "namespaces after down" "$(ip netns list | grep -c '^cs-')" 0
[ -d /run/connscale-lab ] && fail "state left: $(ls /run/connscale-lab)"
echo PASS
