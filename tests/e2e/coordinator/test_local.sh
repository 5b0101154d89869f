#!/bin/bash
# e2e: a local run (the coordinator starts the server and 2 agents), 4,000
# connections (divided by CONNSCALE_TEST_SCALE in slow builds: tsan) in two
# steps, 2 echo rounds each step. The report's totals equal
# the sum of the agents' and what the server counted; server samples are
# present; latency percentiles are ordered; the summary and exit code agree.
. "$(dirname "$0")/lib.sh"
coord=$1

n=$(scaled 4000) half=$(($(scaled 4000) / 2))
cat >"$WORK/plan.json" <<PLAN
{
  "name": "e2e-local",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": $n,
  "steps": [$half, $n],
  "echo": {"payload_bytes": 200, "rounds": 2},
  "hold_s": 1,
  "server": {"interval_ms": 200},
  "thresholds": ["established_ratio >= 1.0", "echo_errors == 0", "echo_p99_ms < 5000"],
  "local": {"agents": 2, "server": {"model": "threads", "stack_size": "64k"}}
}
PLAN
"$coord" --quiet --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "exit code" "$?" 0
r=$WORK/report.json
q() { jq -r "$1" "$r"; }
expect status "$(q .status)" pass
expect "agents" "$(q '.agents | length')" 2
expect "agents done" "$(q '[.agents[] | select(.state == "done")] | length')" 2
expect "total established" "$(q .totals.established)" $n
expect "sum of agents' established" "$(q '[.agents[].established] | add')" $n
expect "sum of agents' attempted" "$(q '[.agents[].attempted] | add')" "$(q .totals.attempted)"
expect "assigned" "$(q '[.agents[].assigned] | add')" $n
# Echo phases: half the connections at step 1, then all of them at step 2.
expect "echo ok" "$(q .totals.echo_ok)" $((half + n))
expect "echo errors" "$(q .totals.echo_errors)" 0
expect "server accepted in total" "$(q .server.final.conns_total)" $n
expect "server max concurrent" "$(q .server.final.conns_max)" $n
expect "server now" "$(q .server.final.conns_current)" 0
expect "steps" "$(q '.steps | length')" 2
expect "step 2 server conns" "$(q '.steps[1].server.conns_current')" $n
expect "step 1 server conns" "$(q '.steps[0].server.conns_current')" $half
expect "samples present" "$(q '.server.samples | length > 3')" true
expect "kernel share measured" "$(q '.steps[1].server.kernel_kb_per_conn > 0')" true
# Format 2: one name a fact. The run's memory per connection is the last plateau's, under
# the name server_stats gives it; samples count connections as server_stats does; an agent's
# capacity and its sentence are named as the server's.
expect "report format" "$(q .v)" 2
expect "server memory per connection = the last plateau's" \
	"$(q '[.server.user_kb_per_conn, .server.kernel_kb_per_conn] == [.steps[1].server.user_kb_per_conn, .steps[1].server.kernel_kb_per_conn]')" true
expect "samples: conns_current" "$(q '[.server.samples[] | .conns_current | type == "number"] | all')" true
expect "samples reach the plateau" "$(q '[.server.samples[].conns_current] | max')" $n
expect "agents: capacity, capacity_limit" \
	"$(q '[.agents[] | (.capacity | type) + "," + (.capacity_limit | type)] | unique | join(" ")')" "number,string"
expect "server after the close: no connection, no per-connection figure" \
	"$(q '[.server.final.user_kb_per_conn, .server.final.kernel_kb_per_conn]' | tr -d ' \n')" "[null,null]"
for h in connect echo; do
	expect "$h percentiles ordered" \
		"$(q ".totals.latency.$h | .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and .p999 <= .max")" true
	expect "$h count" "$(q ".totals.latency.$h.count")" "$([ $h = connect ] && echo $n || echo $((2 * (half + n))))"
done
expect "thresholds ok" "$(q '[.thresholds[] | select(.ok)] | length')" 3
grep -q "connscale: e2e-local: pass" "$WORK/out" || fail "summary missing: $(cat "$WORK/out")"
grep -q "report: $r" "$WORK/out" || fail "report path not printed"
[ ! -e "$r.tmp."* ] 2>/dev/null || fail "temporary report left behind"
