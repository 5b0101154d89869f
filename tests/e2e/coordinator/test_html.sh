#!/bin/bash
# e2e: --html writes one self-contained page that headless Chromium renders
# with a status banner (status, thresholds, duration, errors), the plan's
# settings and every chart present and drawn, connections drawn as steps, and
# nothing cut off at 800 px; an aborted run's page shows its error and draws
# no empty chart; --render-html compares several reports.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 here=$(dirname "$0")
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/deps)"; exit 77; }
check() { /usr/bin/python3 "$here/check_html.py" "$@"; }

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-html", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2}, "connections": 1500, "steps": [500, 1000, 1500],
 "ramp": {"rate_per_s": 20000}, "echo": {"rounds": 2, "payload_bytes": 100},
 "hold_s": 1, "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"model": "threads", "stack_size": "64k"}}}
PLAN
"$coord" --quiet --report "$WORK/r.json" --html "$WORK/r.html" "$WORK/plan.json" >/dev/null 2>&1
expect "exit code" "$?" 0
[ -s "$WORK/r.html" ] || fail "no html written"

render() { # render PAGE PREFIX [WIDTH]
	local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
		--disable-background-networking --disable-component-update --disable-sync
		--user-data-dir="$WORK/chromium" --window-size="${3:-1200},2600" --hide-scrollbars)
	timeout 60 chromium "${flags[@]}" --screenshot="$2.png" "file://$1" >/dev/null 2>&1
	timeout 60 chromium "${flags[@]}" --dump-dom "file://$1" >"$2.dom" 2>/dev/null
	[ -s "$2.png" ] && [ -s "$2.dom" ] || fail "chromium rendered nothing for $1"
}
# layout PAGE PREFIX [WIDTH]: the page at WIDTH px (800), measured (an instrumented copy)
# into PREFIX-WIDTH.dom.
layout() {
	local w=${3:-800}
	check --instrument "$1" "$2-$w.html" || fail "instrument $1"
	timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$WORK/chromium" --window-size="$w,2600" --hide-scrollbars \
		--dump-dom "file://$2-$w.html" >"$2-$w.dom" 2>/dev/null
	[ -s "$2-$w.dom" ] || fail "chromium rendered nothing for $2-$w.html"
}
render "$WORK/r.html" "$WORK/single"
render "$WORK/r.html" "$WORK/single800" 800
layout "$WORK/r.html" "$WORK/single"
layout "$WORK/r.html" "$WORK/single" 1400
port=$(jq -r .target.port "$WORK/r.json")
check --status pass --report "$WORK/r.json" \
	--setting "target=127.0.0.1:$port" --setting "agents=2 (local)" \
	--setting "connections=1,500" --setting "steps=500, 1,000, 1,500" \
	--setting "ramp rate=20,000 connections/s" --setting "payload=100 bytes" \
	--setting "echo rounds=2" --setting "hold=1 s" --setting "load=none" --setting "churn=none" \
	--setting "local server=threads, 64k stacks" --steps --layout "$WORK/single-800.dom" --no-scroll \
	"$WORK/r.html" "$WORK/single.dom" "$WORK/single.png" \
	chart-connections chart-memory chart-per-connection chart-latency || fail "single report"
check "$WORK/r.html" "$WORK/single800.dom" "$WORK/single800.png" \
	chart-connections chart-memory chart-per-connection chart-latency || fail "single report at 800 px"
check --layout "$WORK/single-1400.dom" --no-scroll "$WORK/r.html" "$WORK/single.dom" "$WORK/single.png" ||
	fail "single report at 1400 px"
grep -q '<table id="summary">' "$WORK/single.dom" || fail "no summary table"
grep -q "held_ratio" "$WORK/single.dom" || fail "no thresholds table"
grep -q "open-files limit" "$WORK/single.dom" || fail "no host limits"

# An aborted run (nobody joined): its error in the banner, thresholds not
# judged, no chart drawn (a note for each instead), nothing cut off at 800 px.
cat >"$WORK/abort.json" <<'PLAN'
{"name": "e2e-html-abort", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 1}, "connections": 10, "steps": [10]}
PLAN
timeout 30 "$coord" --quiet --bind "ipc://$WORK/c.ipc" --report "$WORK/a.json" --html "$WORK/a.html" \
	"$WORK/abort.json" >/dev/null 2>&1
expect "aborted run: exit code" "$?" 3
expect "aborted run: status" "$(jq -r .status "$WORK/a.json")" aborted
render "$WORK/a.html" "$WORK/abort" 800
layout "$WORK/a.html" "$WORK/abort"
check --status aborted --report "$WORK/a.json" --error "0 of 1 agents joined within 1 s" \
	--setting "target=127.0.0.1:9" --setting "connections=10" --no-charts \
	--layout "$WORK/abort-800.dom" --no-scroll "$WORK/a.html" "$WORK/abort.dom" "$WORK/abort.png" ||
	fail "aborted run's page"

# A degraded run (crafted: the server stopped answering): judged, with server.error in the banner.
jq '.status = "degraded" | .error = "agent local-2 lost: silent for 5.0 s"
	| .server.error = "the server stopped answering at t=2.5 s"' "$WORK/r.json" >"$WORK/d.json"
"$coord" --render-html "$WORK/d.html" "$WORK/d.json" || fail "render degraded"
render "$WORK/d.html" "$WORK/degraded"
check --status degraded --report "$WORK/d.json" --error "agent local-2 lost: silent for 5.0 s" \
	--error "the server stopped answering at t=2.5 s" \
	"$WORK/d.html" "$WORK/degraded.dom" "$WORK/degraded.png" chart-connections || fail "degraded run's page"

# The plan's load (a sweep, and one rate) and churn in the settings (crafted plans: the
# settings come from the report's plan alone).
jq '.plan.load = {"rate_per_s": [1000, 2000], "duration_s": 2, "payload_bytes": 64}
	| .plan.churn = {"rate_per_s": 100, "duration_s": 3}' "$WORK/r.json" >"$WORK/lc.json"
# The churn's table (crafted figures): one row a step with a churn, failures by
# reason, and null (not measured: no server stats, nothing ok) as a dash, never 0.
lat() { echo "{\"count\": $1, \"p50\": $2, \"p90\": $2, \"p99\": $3, \"p999\": $3, \"max\": $3, \"mean\": $2}"; }
jq --argjson l0 "$(lat 297 1.25 4.5)" --argjson l1 "$(lat 0 null null)" \
	'def failed(r; t): {"refused": r, "timeout": t, "reset": 0, "addr_not_available": 0,
		"eof_early": 0, "mismatch": 0, "other": 0};
	.steps[0].churn = {"rate_per_s": 100, "duration_s": 3, "elapsed_s": 3.1, "attempted": 300,
		"ok": 297, "failed": failed(2; 1), "achieved_per_s": 99, "achieved_ratio": 0.99,
		"latency": $l0, "agent_cpu_us_per_conn": 80.5, "server_cpu_us_per_conn": 120.5,
		"ctxsw_per_conn": 2.25, "server_accepted": 300}
	| .steps[1].churn = {"rate_per_s": 100, "duration_s": 3, "elapsed_s": null, "attempted": 300,
		"ok": 0, "failed": failed(300; 0), "achieved_per_s": null, "achieved_ratio": null,
		"latency": $l1, "agent_cpu_us_per_conn": null, "server_cpu_us_per_conn": null,
		"ctxsw_per_conn": null, "server_accepted": null}' "$WORK/lc.json" >"$WORK/lc2.json"
mv "$WORK/lc2.json" "$WORK/lc.json"
"$coord" --render-html "$WORK/lc.html" "$WORK/lc.json" || fail "render load and churn"
render "$WORK/lc.html" "$WORK/lc"
layout "$WORK/lc.html" "$WORK/lc"
grep -q '<h2>Churn</h2>' "$WORK/lc.dom" || fail "no churn section"
check --setting "load=1,000, 2,000 messages/s, 2 s each, 64 bytes a message" \
	--setting "churn=100 new connections/s for 3 s" --setting "payload=100 bytes" \
	--row "churn-0=churn at|rate/s|attempted|ok|failed|achieved/s|p50 ms|p99 ms|srv µs/conn|ctxsw/conn|server accepted" \
	--row "churn-0=500|100|300|297|3 (refused 2, timeout 1)|99|1.25|4.50|120.5|2.25|300" \
	--row "churn-0=1,000|100|300|0|300 (refused 300)|–|–|–|–|–|–" \
	--layout "$WORK/lc-800.dom" \
	"$WORK/lc.html" "$WORK/lc.dom" "$WORK/lc.png" || fail "load and churn settings, churn table"
expect "churn rows: one a step with a churn" \
	"$(sed -n '/<table id="churn-0">/,/<\/table>/p' "$WORK/lc.html" | grep -o '<tr>' | wc -l)" 3
grep -q 'id="churn-' "$WORK/r.html" && fail "a churn table without a churn"

# The local server as the plan gave it, and the server column without final stats: a
# command (argv joined, escaped), a model with processes, an external server.
jq '.server.final = null | .plan.local.server = {"command": ["python3",
	"examples/servers/py-echo/echo.py", "--port", "{port}", "<b>x</b> y"], "ready_timeout_s": 10}' \
	"$WORK/r.json" >"$WORK/cmd.json"
jq '.server.final = null | .plan.local.server = {"model": "epoll", "stack_size": "default",
	"processes": 2}' "$WORK/r.json" >"$WORK/proc.json"
jq '.server.final = null | del(.plan.local)' "$WORK/r.json" >"$WORK/ext.json"
"$coord" --render-html "$WORK/srv.html" "$WORK/cmd.json" "$WORK/proc.json" "$WORK/ext.json" ||
	fail "render servers"
render "$WORK/srv.html" "$WORK/srv"
check --row "settings=local server|python3 examples/servers/py-echo/echo.py --port {port} '<b>x</b> y'" \
	--row "settings-2=local server|epoll, default stacks, 2 processes" \
	--row "summary=e2e-html|command" --row "summary=e2e-html|epoll" --row "summary=e2e-html|external" \
	"$WORK/srv.html" "$WORK/srv.dom" "$WORK/srv.png" || fail "the local server's settings"
grep -q '<b>x</b>' "$WORK/srv.html" && fail "the command not escaped"
grep -q '<td>threads</td>' "$WORK/srv.dom" && fail "a command server labelled threads"
jq '.plan.load = {"rate_per_s": 500, "duration_s": 1.5, "payload_bytes": 32}' "$WORK/r.json" >"$WORK/l1.json"
"$coord" --render-html "$WORK/l1.html" "$WORK/l1.json" || fail "render one load rate"
render "$WORK/l1.html" "$WORK/l1"
check --setting "load=500 messages/s for 1.5 s, 32 bytes a message" --setting "churn=none" \
	"$WORK/l1.html" "$WORK/l1.dom" "$WORK/l1.png" || fail "one load rate's settings"

# A comparison page from two reports (the same one twice is enough to test the layout).
cp "$WORK/r.json" "$WORK/r2.json"
"$coord" --render-html "$WORK/cmp.html" "$WORK/r.json" "$WORK/r2.json"
expect "render exit" "$?" 0
render "$WORK/cmp.html" "$WORK/cmp"
layout "$WORK/cmp.html" "$WORK/cmp"
check --layout "$WORK/cmp-800.dom" "$WORK/cmp.html" "$WORK/cmp.dom" "$WORK/cmp.png" \
	chart-per-connection chart-latency || fail "comparison page"
expect "one summary row per report" "$(grep -o '<td>e2e-html</td>' "$WORK/cmp.dom" | wc -l)" 2
"$coord" --render-html "$WORK/x.html" "$WORK/missing.json" 2>"$WORK/err"
expect "missing report" "$?" 2
grep -q "missing.json" "$WORK/err" || fail "missing report not named"
