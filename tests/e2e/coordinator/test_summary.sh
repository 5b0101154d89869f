#!/bin/bash
# e2e: the tables a run prints at its end (summary.c). A small local run's
# summary says KiB per connection, as the page does; then crafted reports fed
# to summary_print: a step the server did not answer at keeps its accept lag
# under "accept s" with dashes in the server's columns, the "no server stats"
# note only when no step had them, and null (not measured) printed as "-",
# never 0, in the load and churn tables and the server line.
. "$(dirname "$0")/lib.sh"
sp=$1 coord=$2

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-summary", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 1, "join_timeout_s": 20}, "connections": 40, "steps": [20, 40],
 "echo": {"rounds": 1}, "hold_s": 0, "server": {"interval_ms": 200},
 "local": {"agents": 1, "server": {"model": "epoll"}}}
PLAN
"$coord" --quiet --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "exit code" "$?" 0
grep -q "rss MiB  *user KiB/conn  *kernel KiB/conn" "$WORK/out" || fail "the run's step table does not say MiB and KiB/conn"
grep -q "kB/conn" "$WORK/out" && fail "the run's summary still says kB/conn"
"$sp" "$WORK/r.json" >"$WORK/s0" || fail "summary_print"
grep -qF "$(grep -m1 '^  step ' "$WORK/s0")" "$WORK/out" || fail "summary_print prints another table than the run"

# steps: the table from its header to the first blank line.
steps() { awk '/^  step /{p=1} p && (/^$/ || /^  \(/) {exit} p' "$1"; }
# Every row ends where the header ends (right-aligned columns; a "+" after an incomplete lag).
aligned() {
	local w
	w=$(steps "$1" | head -1 | awk '{print length($0)}')
	steps "$1" | tail -n +2 | sed 's/+$//' | awk -v w="$w" 'length($0) != w {bad=1} END {exit bad}'
}

# Step 2 without the server's answer; step 1 with it and with an accept lag.
jq '.steps[1].server = null | .steps[1].accept_lag_s = null | .steps[1].accept_lag_complete = null
	| .steps[0].accept_lag_s = 0.25 | .steps[0].accept_lag_complete = true' "$WORK/r.json" >"$WORK/a.json"
"$sp" "$WORK/a.json" >"$WORK/s1" || fail "summary_print a.json"
cat "$WORK/s1"
aligned "$WORK/s1" || fail "step rows not aligned with the header: $(steps "$WORK/s1")"
row2=$(steps "$WORK/s1" | sed -n 3p)
expect "step 2 without the server: 8 columns" "$(echo "$row2" | awk '{print NF}')" 8
expect "step 2: server columns and accept lag" "$(echo "$row2" | awk '{print $4, $5, $6, $7, $8}')" "- - - - -"
expect "step 1: accept lag under accept s" "$(steps "$WORK/s1" | sed -n 2p | awk '{print $8}')" 0.25
grep -q "no server stats" "$WORK/s1" && fail "the no-stats note with a step that had stats"

# No step with the server's stats: dashes everywhere, and the note.
jq '.steps[].server = null | .steps[].accept_lag_s = null | .steps[].accept_lag_complete = null' \
	"$WORK/r.json" >"$WORK/n.json"
"$sp" "$WORK/n.json" >"$WORK/s2" || fail "summary_print n.json"
aligned "$WORK/s2" || fail "step rows not aligned without stats: $(steps "$WORK/s2")"
grep -q "(no server stats" "$WORK/s2" || fail "no note when no step had the server's stats"

# A dead target's load and churn: achieved and per-message figures null, shown as "-".
jq '.steps[1].load = [{"rate_per_s": 1000, "duration_s": 1, "payload_bytes": 64,
		"elapsed_s": null, "scheduled": 1000, "sent": 0, "unsent": 1000, "verified": 0,
		"errors": 0, "behind_schedule": 0, "offered_per_s": 0, "achieved_per_s": null,
		"achieved_ratio": null, "latency": {"count": 0, "p50": null, "p90": null, "p99": null,
		"p999": null, "max": null, "mean": null}, "agent_cpu_us_per_msg": null,
		"server_cpu_us_per_msg": null, "ctxsw_per_msg": null, "host_busy_share": null,
		"host_softirq_share": null}]
	| .steps[1].churn = {"rate_per_s": 100, "duration_s": 1, "elapsed_s": null, "attempted": 100,
		"ok": 0, "failed": {"refused": 100, "timeout": 0, "reset": 0, "addr_not_available": 0,
		"eof_early": 0, "mismatch": 0, "other": 0}, "achieved_per_s": null,
		"achieved_ratio": null, "latency": {"count": 0, "p50": null, "p90": null, "p99": null,
		"p999": null, "max": null, "mean": null}, "agent_cpu_us_per_conn": null,
		"server_cpu_us_per_conn": null, "ctxsw_per_conn": null, "server_accepted": null}
	| .server.final.conns_total = null | .server.final.process = ""' "$WORK/r.json" >"$WORK/l.json"
"$sp" "$WORK/l.json" >"$WORK/s3" || fail "summary_print l.json"
cat "$WORK/s3"
load=$(grep -A1 "^  load at" "$WORK/s3" | tail -1)
expect "load row" "$(echo "$load" | awk '{print $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}')" \
	"40 1,000 - - - - 0 - - -"
churn=$(grep -A1 "^  churn at" "$WORK/s3" | tail -1)
expect "churn row" "$(echo "$churn" | awk '{print $1, $2, $3, $4, $5, $6, $7, $8, $9}')" \
	"40 100 - 0 100 - - - -"
for t in "load at" "churn at"; do
	h=$(grep -m1 "^  $t" "$WORK/s3" | awk '{print length($0)}')
	r=$(grep -A1 "^  $t" "$WORK/s3" | tail -1 | awk '{print length($0)}')
	expect "$t: the row ends where its header ends" "$r" "$h"
done
grep -q "total accepted -," "$WORK/s3" || fail "null conns_total not shown as -"
echo "ok"
