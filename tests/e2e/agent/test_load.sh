#!/bin/bash
# e2e.agent.load: the standalone agent's open-loop load phase (--load-rate).
#
# 1. Exact counts: 200 connections at 2,000 messages/s for 2 s. Each connection
#    sends once per 200/2000 = 0.1 s from an offset below 0.1 s, so every one
#    sends exactly 20 times: 4,000 sent, 4,000 verified, nothing else.
# 2. A stall is latency, not fewer sends: the server is stopped (SIGSTOP) for
#    1 s of a 3 s load. Sends scheduled in the stall still count from their
#    scheduled time, so those made at its start wait the whole second: max
#    >= 900 ms (a closed loop would have stalled its clock instead), and about
#    a third of all sends fall in the stall, their latency spread over 0..1 s:
#    the p99 (the top 3% of the stalled ones) is >= 800 ms. Every message is
#    still sent and verified: 6,000.
# 4. Churn: 100 held, then 500 new connections a second for 1 s, each with one
#    verified echo: ok == attempted, from 500 up to the token bucket's initial
#    credit of 10 more, none failed, one latency per connection.
# 3. An agent that cannot keep its schedule says so: one thread offered
#    1,000,000 messages/s (for 50 ms: 50,000 in all) cannot: behind_schedule > 0.
# 5. A churn whose every connection the server refuses (--max-conns) exits 1 and
#    says how many failed and why.
AGENT=$1 SERVER=$2
. "$(dirname "$0")/lib.sh"

start_stats_server "$SERVER" --model epoll

"$AGENT" --target 127.0.0.1:$PORT -n 200 --load-rate 2000 --load-duration 2 --json \
	>"$WORK/exact.json" 2>"$WORK/exact.err"
expect "exact: exit" $? 0
J=$WORK/exact.json
expect "exact: load sent" "$(jq .load.sent "$J")" 4000
expect "exact: load verified" "$(jq .load.verified "$J")" 4000
expect "exact: load errors" "$(jq .load.errors "$J")" 0
expect "exact: latency count" "$(jq .load.latency.count "$J")" 4000
expect "exact: failed" "$(jq '[.failed[]] | add' "$J")" 0
expect "exact: rate asked" "$(jq .load.rate_per_s "$J")" 2000
jq -e '.load.achieved_per_s > 1800 and .load.achieved_per_s <= 2050' "$J" >/dev/null ||
	fail "exact: achieved_per_s $(jq .load.achieved_per_s "$J"), expected about 2000"
jq -e '.load.agent_cpu_user_s + .load.agent_cpu_sys_s > 0' "$J" >/dev/null ||
	fail "exact: no agent CPU reported: $(jq -c .load "$J")"

"$AGENT" --target 127.0.0.1:$PORT -n 200 --load-rate 2000 --load-duration 3 \
	--echo-timeout 10000 --json >"$WORK/stall.json" 2>"$WORK/stall.err" &
apid=$!
sleep 1.2
# The server's workers are its children: stop them all.
procs="$server_PID $(pgrep -P "$server_PID" | tr '\n' ' ')"
kill -STOP $procs
sleep 1
kill -CONT $procs
wait $apid
expect "stall: exit" $? 0
J=$WORK/stall.json
expect "stall: load sent" "$(jq .load.sent "$J")" 6000
expect "stall: load verified" "$(jq .load.verified "$J")" 6000
jq -e '.load.latency.max >= 900 and .load.latency.p99 >= 800' "$J" >/dev/null ||
	fail "stall: the 1 s stall is not in the latency: $(jq -c .load.latency "$J")"

"$AGENT" --target 127.0.0.1:$PORT -n 100 --threads 1 --load-rate 1000000 --load-duration 50ms \
	--echo-timeout 10000 --json >"$WORK/behind.json" 2>"$WORK/behind.err"
rc=$?
J=$WORK/behind.json
# No send starts after the 50 ms: whatever the schedule held beyond what one thread
# could send is unsent, the run is not a pass (exit 1), and the agent says so.
if [ "$(jq '.load.sent < .load.scheduled' "$J")" = true ]; then
	expect "behind: exit (fell short of its schedule)" $rc 1
	grep -q "agent: the load fell short of its schedule" "$WORK/behind.err" ||
		fail "behind: not said: $(cat "$WORK/behind.err")"
fi
expect "behind: scheduled" "$(jq .load.scheduled "$J")" 50000
jq -e '.load.behind_schedule > 0' "$J" >/dev/null ||
	fail "behind: 1M/s on one thread kept its schedule?: $(jq -c '.load | del(.hist)' "$J")"
expect "behind: every send verified" "$(jq '.load.sent == .load.verified' "$J")" true
"$AGENT" --target 127.0.0.1:$PORT -n 100 --churn-rate 500 --churn-duration 1 \
	--source-ip 127.0.0.32 --json >"$WORK/churn.json" 2>"$WORK/churn.err"
expect "churn: exit" $? 0
J=$WORK/churn.json
expect "churn: attempted (500 a second for 1 s)" "$(jq .churn.attempted "$J")" 500
expect "churn: ok == attempted" "$(jq '.churn.ok == .churn.attempted' "$J")" true
expect "churn: failed" "$(jq '[.churn.failed[]] | add' "$J")" 0
expect "churn: latencies" "$(jq '.churn.latency.first_echo.count == .churn.ok' "$J")" true
expect "churn: held ones untouched" "$(jq '.established' "$J")" 100

# A churn the server refuses is not a pass: a server that takes 100 connections
# at most, 100 held, so it closes every churn connection at once: all of them
# fail (by reason, none verified), the agent exits 1 and says how many and why.
start_stats_server "$SERVER" --model epoll --max-conns 100
"$AGENT" --target 127.0.0.1:$PORT -n 100 --churn-rate 200 --churn-duration 1 \
	--source-ip 127.0.0.33 --json >"$WORK/refused.json" 2>"$WORK/refused.err"
expect "refused churn: exit" $? 1
J=$WORK/refused.json
expect "refused churn: ok" "$(jq .churn.ok "$J")" 0
expect "refused churn: failed == attempted" "$(jq '([.churn.failed[]] | add) == .churn.attempted' "$J")" true
expect "refused churn: held ones untouched" "$(jq '.established' "$J")" 100
n=$(jq .churn.attempted "$J")
grep -q "agent: $n of $n churn connections failed: " "$WORK/refused.err" ||
	fail "refused churn: not said: $(cat "$WORK/refused.err")"
echo PASS
