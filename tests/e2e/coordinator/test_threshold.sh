#!/bin/bash
# e2e: a threshold that cannot hold gives status "fail" and exit 1, and the
# report says which threshold failed with the value measured.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

cat >"$WORK/plan.json" <<'PLAN'
{
  "name": "e2e-threshold",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 1},
  "connections": 300,
  "thresholds": ["established_ratio >= 1.0", "echo_p99_ms < 0"],
  "local": {"agents": 1, "server": {"model": "epoll"}}
}
PLAN
"$coord" --quiet --report "$WORK/report.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "exit code" "$?" 1
r=$WORK/report.json
expect status "$(jq -r .status "$r")" fail
expect "established" "$(jq -r .totals.established "$r")" 300
expect "ratio threshold" "$(jq -r '.thresholds[0].ok' "$r")" true
expect "impossible threshold" "$(jq -r '.thresholds[1] | "\(.expr) \(.ok) \(.value > 0)"' "$r")" \
	"echo_p99_ms < 0 false true"
grep -q "FAIL echo_p99_ms < 0" "$WORK/out" || fail "summary does not show the failed threshold"
