#!/bin/bash
# e2e.coordinator.load_thresholds: thresholds on the plan's load sweep (issue 12)
# and the page's "At work" section.
#
# 1. A local load run (2 steps x 2 rates) whose thresholds hold: exit 0, and
#    each threshold's measured value is the worst of the report's
#    steps[].load[] as jq computes it (the lowest achieved_ratio, the highest
#    latency percentile and server CPU per message, the sum of behind_schedule).
#    The HTML has "At work", a chart of each kind per step and every rate.
# 2. One rate, and "load_p99_ms < 0.001", which no echo can meet: exit 1
#    (thresholds failed), status "fail", "FAIL load_p99_ms < 0.001" in the summary.
# 3. No load in the plan: a load threshold is not measured (value null), fails,
#    exit 1; the page has no "At work" at all.
# The bounds that hold are loose on purpose: a busy host must not fail them.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

run() { # run PLAN NAME: the coordinator on $WORK/PLAN, its exit code in $rc
	timeout 180 "$coord" --report "$WORK/$2.json" --html "$WORK/$2.html" "$WORK/$1" \
		>"$WORK/$2.out" 2>"$WORK/$2.err"
	rc=$?
}
# same NAME INDEX JQ: thresholds[INDEX].value equals JQ over the report, and passed
same() {
	local r=$WORK/hold.json got want
	got=$(jq ".thresholds[$2].value" "$r")
	want=$(jq "$3" "$r")
	[ "$got" != null ] || fail "$1: not measured"
	jq -e --argjson g "$got" --argjson w "$want" -n '$g == $w' >/dev/null ||
		fail "$1: threshold measured $got, the report's worst is $want"
	expect "$1 ok" "$(jq ".thresholds[$2].ok" "$r")" true
}

cat >"$WORK/hold.plan" <<'PLAN'
{
  "name": "e2e-load-thresholds",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 400,
  "steps": [200, 400],
  "echo": {"rounds": 1},
  "load": {"rate_per_s": [1000, 2000], "duration_s": 1},
  "thresholds": ["achieved_ratio >= 0.5", "load_p99_ms < 5000", "load_p50_ms >= 0",
                 "load_p90_ms >= 0", "load_p999_ms >= 0", "load_max_ms < 60000",
                 "behind_schedule >= 0", "server_cpu_us_per_msg > 0", "failed == 0"],
  "local": {"agents": 2, "server": {"model": "epoll"}}
}
PLAN
run hold.plan hold
[ "$rc" = 0 ] || { tail -n 40 "$WORK/hold.err" "$WORK/hold.out" >&2; fail "exit $rc, expected 0"; }
expect "status" "$(jq -r .status "$WORK/hold.json")" pass
expect "load entries" "$(jq '[.steps[].load[]] | length' "$WORK/hold.json")" 4
same achieved_ratio 0 '[.steps[].load[].achieved_ratio] | min'
same load_p99_ms 1 '[.steps[].load[].latency.p99] | max'
same load_p50_ms 2 '[.steps[].load[].latency.p50] | max'
same load_p90_ms 3 '[.steps[].load[].latency.p90] | max'
same load_p999_ms 4 '[.steps[].load[].latency.p999] | max'
same load_max_ms 5 '[.steps[].load[].latency.max] | max'
same behind_schedule 6 '[.steps[].load[].behind_schedule] | add'
same server_cpu_us_per_msg 7 '[.steps[].load[].server_cpu_us_per_msg | numbers] | max'
grep -q "ok   load_p99_ms < 5000" "$WORK/hold.out" || fail "summary: $(cat "$WORK/hold.out")"

h=$WORK/hold.html
expect "At work sections" "$(grep -c '<h2>At work</h2>' "$h")" 1
for k in 0 1; do
	grep -q "id=\"chart-load-achieved-0-$k\"" "$h" || fail "no achieved chart for step $k"
	grep -q "id=\"chart-load-latency-0-$k\"" "$h" || fail "no latency chart for step $k"
done
# The table: a row per step and rate, the rates as the console writes them.
rows=$(sed -n '/<table id="load-0">/,/<\/table>/p' "$h" | grep -c '^<tr><td')
expect "load table rows" "$rows" 4
for rate in 1,000 2,000; do
	expect "rows at $rate/s" \
		"$(sed -n '/<table id="load-0">/,/<\/table>/p' "$h" | grep -c "<td class=\"n\">$rate</td>")" 2
done

cat >"$WORK/fail.plan" <<'PLAN'
{
  "name": "e2e-load-thresholds-fail",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 1},
  "connections": 100,
  "load": {"rate_per_s": 500, "duration_s": 1},
  "thresholds": ["load_p99_ms < 0.001"],
  "local": {"agents": 1, "server": {"model": "epoll"}}
}
PLAN
run fail.plan fail
expect "impossible threshold: exit" "$rc" 1
expect "impossible threshold: status" "$(jq -r .status "$WORK/fail.json")" fail
expect "impossible threshold: judged" \
	"$(jq -c '.thresholds[0] | [.ok, .value > 0.001]' "$WORK/fail.json")" "[false,true]"
grep -q "FAIL load_p99_ms < 0.001" "$WORK/fail.out" || fail "summary: $(cat "$WORK/fail.out")"

cat >"$WORK/none.plan" <<'PLAN'
{
  "name": "e2e-load-thresholds-none",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 1},
  "connections": 100,
  "thresholds": ["failed == 0", "load_p99_ms < 60000", "achieved_ratio >= 0"],
  "local": {"agents": 1, "server": {"model": "epoll"}}
}
PLAN
run none.plan none
expect "no load: exit" "$rc" 1
expect "no load: thresholds" "$(jq -c '[.thresholds[] | [.ok, .value]]' "$WORK/none.json")" \
	"[[true,0],[false,null],[false,null]]"
grep -q "FAIL load_p99_ms < 60000 *(not measured)$" "$WORK/none.out" || fail "summary: $(cat "$WORK/none.out")"
grep -q "At work\|chart-load\|id=\"load-" "$WORK/none.html" && fail "an At work section without load"
echo PASS
