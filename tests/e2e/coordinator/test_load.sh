#!/bin/bash
# e2e.coordinator.load: a local run with a load sweep at every plateau.
#
# 2 agents, steps 200 and 400 connections, "load": 2,000 then 4,000 msg/s for
# 2 s. Each agent gets the rate in proportion to its connections, so every
# connection sends once per 0.1 s (N / R) in every sub-step: exactly 20 each,
# 4,000 and 8,000 messages a sub-step, all verified; achieved within 5% of
# the rate asked; the latency histogram holds exactly the verified messages;
# the server's CPU and context switches per message are there (its stats are
# on in local runs); and echo and load failures are none.
# Over time (timeline.load, a row every 0.5 s while a load runs): every step
# and rate has rows; within one, verified never falls and never passes the
# sub-step's total; the latencies the rows count add up to no more than it;
# p50 <= p99 <= max in every row; the HTML draws both charts over time.
. "$(dirname "$0")/lib.sh"
coord=$1

cat >"$WORK/plan.json" <<PLAN
{
  "name": "e2e-load",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 400,
  "steps": [200, 400],
  "echo": {"rounds": 1},
  "load": {"rate_per_s": [2000, 4000], "duration_s": 2, "payload_bytes": 100},
  "thresholds": ["failed == 0"],
  "local": {"agents": 2, "server": {"model": "epoll"}}
}
PLAN
timeout 180 "$coord" --report "$WORK/report.json" --html "$WORK/report.html" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "exit" $? 0
R=$WORK/report.json
expect "load sub-steps per step" "$(jq -c '[.steps[] | .load | length]' "$R")" "[2,2]"
expect "rates" "$(jq -c '[.steps[].load[].rate_per_s]' "$R")" "[2000,4000,2000,4000]"
expect "sent" "$(jq -c '[.steps[].load[].sent]' "$R")" "[4000,8000,4000,8000]"
expect "verified" "$(jq -c '[.steps[].load[].verified]' "$R")" "[4000,8000,4000,8000]"
expect "errors" "$(jq -c '[.steps[].load[].errors]' "$R")" "[0,0,0,0]"
expect "offered (sent a second of the schedule)" "$(jq -c '[.steps[].load[].offered_per_s]' "$R")" \
	"[2000,4000,2000,4000]"
expect "latency counts" "$(jq -c '[.steps[].load[].latency.count]' "$R")" "[4000,8000,4000,8000]"
expect "payload" "$(jq -c '[.steps[].load[].payload_bytes] | unique' "$R")" "[100]"
jq -e '[.steps[].load[].achieved_ratio] | all(. >= 0.95 and . <= 1.01)' "$R" >/dev/null ||
	fail "achieved not within 5% of the rate: $(jq -c '[.steps[].load[].achieved_ratio]' "$R")"
jq -e '[.steps[].load[] | .server_cpu_us_per_msg > 0 and .ctxsw_per_msg > 0 and
	.agent_cpu_us_per_msg > 0] | all' "$R" >/dev/null ||
	fail "no CPU per message: $(jq -c '[.steps[].load[] | del(.latency)]' "$R")"
expect "failed" "$(jq '.totals.failed | add' "$R")" 0

expect "over time: a step and rate with rows" \
	"$(jq -c '[.timeline.load[] | [.step, .sub]] | unique' "$R")" "[[0,0],[0,1],[1,0],[1,1]]"
expect "over time: rows off their step's rate" \
	"$(jq '[.timeline.load[] | select(.rate_per_s != ([2000, 4000][.sub]))] | length' "$R")" 0
expect "over time: verified falls within a rate" "$(jq '[.timeline.load | group_by([.step, .sub])[] |
	[.[].verified] | . as $v | range(1; length) | select($v[.] < $v[. - 1])] | length' "$R")" 0
expect "over time: verified past the sub-step's total" "$(jq '. as $r | [.timeline.load[] |
	select(.verified > $r.steps[.step].load[.sub].verified)] | length' "$R")" 0
expect "over time: latencies counted past the sub-step's" "$(jq '. as $r | [.timeline.load |
	group_by([.step, .sub])[] | select((map(.count) | add) > $r.steps[.[0].step].load[.[0].sub].latency.count)]
	| length' "$R")" 0
expect "over time: percentiles out of order" \
	"$(jq '[.timeline.load[] | select(.p50_ms > .p99_ms or .p99_ms > .max_ms)] | length' "$R")" 0
for id in chart-load-rate-time-0-0 chart-load-latency-time-0-0 chart-load-rate-time-0-1; do
	grep -q "id=\"$id\"" "$WORK/report.html" || fail "the HTML has no $id"
done
echo PASS
