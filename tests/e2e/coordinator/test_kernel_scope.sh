#!/bin/bash
# e2e.coordinator.kernel_scope: the server's kernel figures are the whole host's
# /proc/meminfo, so agents on the same kernel put their ends of the connections
# in them too; the report says so (server.kernel_scope), and the summary and the
# HTML page say it next to the kernel KiB/conn figure.
#  - a local run, 2 agents on this host: "host, shared with 2 agents" in the
#    report, in the summary under the step table and under the HTML figure;
#  - crafted from it (summary_print, --render-html): scope "host" says no agent
#    is on its kernel; a kernel KiB/conn below zero is shown in parentheses and
#    flagged as the host's noise, never as a bare figure; scope unknown is
#    said as such, and a figure not below zero is not flagged.
. "$(dirname "$0")/lib.sh"
sp=$1 coord=$2

cat >"$WORK/plan.json" <<'PLAN'
{"name": "e2e-kernel-scope", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2, "join_timeout_s": 20}, "connections": 100, "steps": [50, 100],
 "echo": {"rounds": 1}, "hold_s": 0, "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"model": "epoll"}}}
PLAN
"$coord" --quiet --report "$WORK/r.json" --html "$WORK/r.html" "$WORK/plan.json" \
	>"$WORK/out" 2>"$WORK/err"
expect "exit code" "$?" 0
q() { jq -r "$1" "$WORK/r.json"; }
expect "kernel_scope: both agents on the server's kernel" "$(q .server.kernel_scope)" \
	"host, shared with 2 agents"
expect "no boot id in the report" \
	"$(q '[.server.final, .steps[].server] | map(has("boot_id")) | any')" false
grep -qF "  (kernel KiB/conn: the whole host's kernel memory, shared with 2 agents on the same kernel: their ends of the connections are in it too)" "$WORK/out" ||
	fail "the summary does not say the kernel figure is shared with 2 agents: $(cat "$WORK/out")"
grep -qF '<br><small class="scope">host, shared with 2 agents</small>' "$WORK/r.html" ||
	fail "the page does not say the kernel figure is shared with 2 agents"
# The page fragments in the figure: the epoll server's two loops' (each agent's
# connections echoed, so both sent), counted by the server, and said how.
expect "page fragments: one per event loop" "$(q .server.final.page_frag_kb)" \
	$(($(q .server.final.processes) * 32))
grep -qF "  (with the server's page fragments: one of 32 KiB per server thread that has sent, counted by the server)" "$WORK/out" ||
	fail "the summary does not say how the page fragments were counted: $(cat "$WORK/out")"

# One agent on another kernel (the scope a remote run gets), and the kernel
# figure below zero at step 2 (the run's figure too).
jq '.server.kernel_scope = "host" | .steps[1].server.kernel_kb_per_conn = -1.5
	| .server.kernel_kb_per_conn = -1.5' "$WORK/r.json" >"$WORK/n.json"
"$sp" "$WORK/n.json" >"$WORK/s1" || fail "summary_print n.json"
cat "$WORK/s1"
row2=$(awk '/^  step /{p=1; next} p' "$WORK/s1" | sed -n 2p)
expect "step 2 kernel KiB/conn in parentheses" "$(echo "$row2" | awk '{print $7}')" "(-1.50)"
grep -qF "  (kernel KiB/conn: the whole host's kernel memory; no agent on its kernel)" "$WORK/s1" ||
	fail "scope host: no line saying no agent shares the kernel"
grep -qF "  (a kernel KiB/conn in parentheses is below zero: the rest of the host freed more kernel memory than the connections took; not the server's cost)" "$WORK/s1" ||
	fail "a negative kernel figure is not flagged"
"$coord" --render-html "$WORK/n.html" "$WORK/n.json" || fail "render n.json"
grep -qF '(-1.50) not a cost: host noise</span><br><small class="scope">host</small>' "$WORK/n.html" ||
	fail "the page does not flag the negative kernel figure: $(grep -o '<td class="n">[^/]*noise[^/]*' "$WORK/n.html")"
grep -q '<td class="n">-1.50' "$WORK/n.html" && fail "the page shows -1.50 as a figure"

# Neither step's figure negative (set: the real ones are the host's, noise and all): no flag.
jq '.server.kernel_scope = "host, unknown whether shared" | .steps[].server.kernel_kb_per_conn = 3.25' "$WORK/r.json" >"$WORK/u.json"
"$sp" "$WORK/u.json" >"$WORK/s2" || fail "summary_print u.json"
grep -qF "whether agents share it is unknown" "$WORK/s2" || fail "scope unknown: not said"
grep -q "in parentheses is below zero" "$WORK/s2" && fail "flagged a kernel figure that is not negative"

# An older server that left page_frag_kb out (null in the report), and a watched one.
jq '.server.final.page_frag_kb = null' "$WORK/r.json" >"$WORK/o.json"
"$sp" "$WORK/o.json" >"$WORK/s3" || fail "summary_print o.json"
grep -qF "  (without the server's page fragments: its build does not count them)" "$WORK/s3" ||
	fail "an older server's missing page fragments are not said: $(cat "$WORK/s3")"
jq '.server.final.model = "external"' "$WORK/r.json" >"$WORK/x.json"
"$sp" "$WORK/x.json" >"$WORK/s4" || fail "summary_print x.json"
grep -qF "estimated: one of 32 KiB per thread it gained since the watcher started)" "$WORK/s4" ||
	fail "a watched server's page fragments are not said to be an estimate: $(cat "$WORK/s4")"

echo PASS
