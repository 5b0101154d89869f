#!/bin/bash
# e2e: --render-html treats a report as data. A report whose every string (and
# the failure reasons' keys) carries markup yields a page with none of it live:
# no <script, no attribute broken out of its quotes. And the memory chart's
# note says "no server.stats in the plan" only when the plan had none: a stats
# endpoint that failed is reported with the report's server.error.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

cat >"$WORK/plan.json" <<'PLAN'
{"name": "escape", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 1}, "connections": 20, "steps": [10, 20],
 "echo": {"rounds": 1}, "hold_s": 0, "server": {"interval_ms": 100},
 "local": {"agents": 1, "server": {"model": "epoll"}}}
PLAN
timeout 60 "$coord" --quiet --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "local run exit" "$?" 0

# Every string in the report, a failure reason, a note and a server error: markup.
x='<script>alert(1)</script>" onmouseover="alert(2)'
jq --arg x "$x" 'walk(if type == "string" then $x else . end)
	| .agents[0].failed[$x] = 3 | .agents[0].why = $x | .server.error = $x' \
	"$WORK/r.json" >"$WORK/evil.json" || fail "jq"
expect "strings in the crafted report" "$(jq '[paths(type == "string")] | length > 20' "$WORK/evil.json")" true
timeout 20 "$coord" --render-html "$WORK/evil.html" "$WORK/evil.json" >"$WORK/out" 2>"$WORK/err"
expect "render exit" "$?" 0
n=$(grep -oi '<script' "$WORK/evil.html" | wc -l)
expect "live <script tags in the page" "$n" 0
n=$(grep -o 'onmouseover="' "$WORK/evil.html" | wc -l)
expect "attributes broken out of their quotes" "$n" 0
# The text is there, escaped: the started_at/ended_at line, an agent's state as a class.
grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2) to &lt;script&gt;' \
	"$WORK/evil.html" || fail "started_at to ended_at is not escaped text"
grep -qF '<td class="&lt;script&gt;' "$WORK/evil.html" || fail "no escaped class attribute"
echo "ok: the crafted report's strings are text"

# server.error when the stats endpoint failed; the plan's own words otherwise.
note() { # note REPORT -> the memory chart's note
	timeout 20 "$coord" --render-html "$WORK/n.html" "$1" >/dev/null 2>"$WORK/err" || fail "render $1: $(cat "$WORK/err")"
	grep -o '<p class="note">The server was not sampled[^<]*</p>' "$WORK/n.html"
}
ep=tcp://127.0.0.1:5701
jq --arg ep "$ep" 'del(.plan.local) | .plan.server.stats = $ep
	| .server = {stats: $ep, samples: [], error: "never answered at \($ep)"}' "$WORK/r.json" >"$WORK/failed.json"
expect "stats endpoint that never answered" "$(note "$WORK/failed.json")" \
	"<p class=\"note\">The server was not sampled: never answered at $ep.</p>"
jq --arg ep "$ep" 'del(.plan.local) | .plan.server.stats = $ep | .server = {stats: $ep, samples: []}' \
	"$WORK/r.json" >"$WORK/silent.json"
expect "stats endpoint, no samples, no error" "$(note "$WORK/silent.json")" \
	"<p class=\"note\">The server was not sampled: server.stats $ep gave no samples.</p>"
jq 'del(.plan.local) | del(.plan.server.stats) | .server = {samples: []}' "$WORK/r.json" >"$WORK/none.json"
expect "no stats endpoint" "$(note "$WORK/none.json")" \
	'<p class="note">The server was not sampled (no server.stats in the plan).</p>'
# Sampled, then it stopped answering: the chart and the reason.
jq '.server.error = "the server stopped answering at t=12.3 s"' "$WORK/r.json" >"$WORK/stopped.json"
timeout 20 "$coord" --render-html "$WORK/s.html" "$WORK/stopped.json" >/dev/null 2>&1 || fail "render stopped"
grep -q 'id="chart-memory"' "$WORK/s.html" || fail "no memory chart for a sampled server"
grep -qF 'Server sampling ended early: the server stopped answering at t=12.3 s.' "$WORK/s.html" ||
	fail "server.error not shown next to the chart"
echo "ok: server.error shown next to the chart"
exit 0
