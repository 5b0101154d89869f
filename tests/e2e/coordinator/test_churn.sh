#!/bin/bash
# e2e.coordinator.churn: connection churn on top of each plateau, counted
# exactly and reconciled with the server's own count.
#
# 2 agents, steps 200 and 400 connections held, then "churn": 300 new
# connections a second for 2 s (150 a second each), each opened, verified by
# one echo, and closed. Per step: exactly 600 attempted (connection i is due at
# i / rate; a late worker catches up), ok == attempted, none failed; the server accepted exactly
# as many (its conns_total grew by `attempted`); one latency per connection;
# and in all the server accepted the 400 held plus every churn connection.
. "$(dirname "$0")/lib.sh"
coord=$1

cat >"$WORK/plan.json" <<PLAN
{
  "name": "e2e-churn",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 400,
  "steps": [200, 400],
  "echo": {"rounds": 1},
  "churn": {"rate_per_s": 300, "duration_s": 2},
  "thresholds": ["failed == 0", "churn_failed == 0", "churn_achieved_ratio >= 0.5"],
  "local": {"agents": 2, "server": {"model": "threads"}}
}
PLAN
timeout 180 "$coord" --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "exit" $? 0
R=$WORK/report.json
expect "attempted, each step" "$(jq -c '[.steps[].churn.attempted]' "$R")" "[600,600]"
expect "ok == attempted" "$(jq -c '[.steps[].churn | .ok == .attempted] | all' "$R")" true
expect "failed" "$(jq -c '[.steps[].churn.failed[]] | add' "$R")" 0
expect "server accepted == attempted" \
	"$(jq -c '[.steps[].churn | .server_accepted == .attempted] | all' "$R")" true
expect "latencies" "$(jq -c '[.steps[].churn | .latency.count == .ok] | all' "$R")" true
expect "server total" "$(jq '.server.final.conns_total' "$R")" \
	"$(jq '400 + ([.steps[].churn.attempted] | add)' "$R")"
jq -e '[.steps[].churn | .server_cpu_us_per_conn > 0 and .agent_cpu_us_per_conn > 0] | all' \
	"$R" >/dev/null || fail "no CPU per connection: $(jq -c '[.steps[].churn]' "$R")"
# The churn thresholds are measured on the report's own figures: the sum, the lowest.
expect "churn_failed measured" "$(jq '.thresholds[1].value' "$R")" 0
expect "churn_achieved_ratio measured" \
	"$(jq '.thresholds[2].value == ([.steps[].churn.achieved_ratio] | min)' "$R")" true
grep -q 'churn at' "$WORK/out" || fail "no churn table in the summary: $(cat "$WORK/out")"
echo PASS
