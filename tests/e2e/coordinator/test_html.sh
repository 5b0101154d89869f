#!/bin/bash
# e2e: --html writes one self-contained page that headless Chromium renders
# with every chart present and drawn; --render-html compares several reports.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 here=$(dirname "$0")
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/deps)"; exit 77; }

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-html", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2}, "connections": 1500, "steps": [500, 1000, 1500],
 "echo": {"rounds": 2}, "hold_s": 1, "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"model": "threads", "stack_size": "64k"}}}
PLAN
"$coord" --quiet --report "$WORK/r.json" --html "$WORK/r.html" "$WORK/plan.json" >/dev/null 2>&1
expect "exit code" "$?" 0
[ -s "$WORK/r.html" ] || fail "no html written"

render() { # render PAGE PREFIX
	local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
		--disable-background-networking --disable-component-update --disable-sync
		--user-data-dir="$WORK/chromium" --window-size=1200,2600 --hide-scrollbars)
	timeout 60 chromium "${flags[@]}" --screenshot="$2.png" "file://$1" >/dev/null 2>&1
	timeout 60 chromium "${flags[@]}" --dump-dom "file://$1" >"$2.dom" 2>/dev/null
	[ -s "$2.png" ] && [ -s "$2.dom" ] || fail "chromium rendered nothing for $1"
}
render "$WORK/r.html" "$WORK/single"
python3 "$here/check_html.py" "$WORK/r.html" "$WORK/single.dom" "$WORK/single.png" \
	chart-connections chart-memory chart-per-connection chart-latency || fail "single report"
grep -q '<table id="summary">' "$WORK/single.dom" || fail "no summary table"
grep -q "held_ratio" "$WORK/single.dom" || fail "no thresholds table"
grep -q "open-files limit" "$WORK/single.dom" || fail "no host limits"

# A comparison page from two reports (the same one twice is enough to test the layout).
cp "$WORK/r.json" "$WORK/r2.json"
"$coord" --render-html "$WORK/cmp.html" "$WORK/r.json" "$WORK/r2.json"
expect "render exit" "$?" 0
render "$WORK/cmp.html" "$WORK/cmp"
python3 "$here/check_html.py" "$WORK/cmp.html" "$WORK/cmp.dom" "$WORK/cmp.png" \
	chart-per-connection chart-latency || fail "comparison page"
expect "one summary row per report" "$(grep -o '<td>e2e-html</td>' "$WORK/cmp.dom" | wc -l)" 2
"$coord" --render-html "$WORK/x.html" "$WORK/missing.json" 2>"$WORK/err"
expect "missing report" "$?" 2
grep -q "missing.json" "$WORK/err" || fail "missing report not named"
