#!/bin/bash
# e2e: a plan's target.host may be a host name. A local plan aimed at
# "localhost" runs and passes; the report keeps the plan as written
# (plan.target.host "localhost") and says where the agents were sent
# (target.host, a 127.x address). A name that does not resolve is a plan
# error (exit 2) naming target.host, before anything starts.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

plan() { # plan HOST
	cat <<PLAN
{
  "name": "e2e-hostname",
  "target": {"host": "$1", "port": 0},
  "agents": {"count": 1, "join_timeout_s": 20},
  "connections": $(scaled 200),
  "local": {"agents": 1, "server": {"model": "epoll"}}
}
PLAN
}

plan localhost >"$WORK/plan.json"
"$coord" --quiet --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 0 ] || fail "localhost plan: exit $rc: $(tail -n 20 "$WORK/err" "$WORK/out")"
expect "status" "$(jq -r .status "$WORK/report.json")" pass
expect "plan as written" "$(jq -r .plan.target.host "$WORK/report.json")" localhost
expect "sent to a loopback address" "$(jq -r '.target.host | startswith("127.")' "$WORK/report.json")" true
expect "held" "$(jq -r .totals.held "$WORK/report.json")" "$(scaled 200)"

plan nosuch.invalid >"$WORK/bad.json"
"$coord" --quiet --report "$WORK/bad-report.json" "$WORK/bad.json" >"$WORK/out" 2>"$WORK/err"
expect "unresolvable name: exit" "$?" 2
grep -q "bad.json: target.host: cannot resolve 'nosuch.invalid' to an IPv4 address" "$WORK/err" ||
	fail "no resolution error: $(cat "$WORK/err")"
[ ! -e "$WORK/bad-report.json" ] || fail "a report was written for a plan that does not load"
