#!/bin/bash
# e2e.coordinator.report_schema: every report.json the real coordinator writes
# matches docs/report.schema.json, and a key the schema does not know fails.
#
# Reports validated (check_schema.py, python3-jsonschema):
#  - plain: a local run, threads server, 2 agents, 2 steps (pass, exit 0);
#  - load: a load sweep of 2 rates and a churn, epoll server (pass, exit 0);
#  - running: the checkpoint written after step 1 (status running, ended_at
#    null, updated_at), then the same run interrupted in step 2 (aborted, exit 3,
#    with agents, steps and an error);
#  - join: nobody joins within join_timeout_s 1 (aborted, exit 3, no agents);
#  - degraded: a stats endpoint nobody answers (degraded, exit 3, server.error);
#  - rejected: an agent whose --allow-target fences the target off refuses its
#    slice (aborted, exit 3, the agent rejected with its why);
#  - every examples/plans/*.json: the local ones run as written (pass or fail:
#    their timing thresholds are the host's business), the lab ones with a 1 s
#    join_timeout_s and their stats on a dead loopback port (aborted, exit 3).
# Each run's exit code matches its status (docs/report.md). Then copies of
# reports with an undocumented key added (top level and deep inside), a key
# removed and a status outside the enum must be refused, naming the key. Every key
# the schema names must be in docs/report.md too.
# Without python3-jsonschema (scripts/deps installs it) it exits 77.
. "$(dirname "$0")/lib.sh"
coord=$1 agent=$2 server=$3 src=$4
schema=$src/docs/report.schema.json
check="/usr/bin/python3 $(dirname "$0")/check_schema.py"

if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	echo "SKIP: /usr/bin/python3 has no jsonschema module (python3-jsonschema; scripts/deps installs it)"
	exit 77
fi
[ -f "$schema" ] || fail "no schema at $schema"
# No key in the schema that docs/report.md does not name.
$check --doc "$src/docs/report.md" "$schema" || fail "docs/report.md lags the schema"

reports=()

# exit_of STATUS: the coordinator's exit code for a report's status.
exit_of() {
	case $1 in
	pass) echo 0 ;;
	fail) echo 1 ;;
	degraded | aborted) echo 3 ;;
	*) echo "no exit for status $1" ;;
	esac
}

# run NAME PLAN [COORDINATOR ARGS...]: runs the plan (from the source tree, where a
# local.server.command finds its server), checks the exit code against the status,
# and queues the report.
run() {
	local name=$1 plan=$2 rc
	shift 2
	(cd "$src" && timeout 120 "$coord" --quiet --report "$WORK/$name.json" "$@" "$plan" \
		>"$WORK/$name.out" 2>"$WORK/err")
	rc=$?
	[ -s "$WORK/$name.json" ] || fail "$name: no report (exit $rc)"
	expect "$name: exit matches status $(jq -r .status "$WORK/$name.json")" "$rc" \
		"$(exit_of "$(jq -r .status "$WORK/$name.json")")"
	reports+=("$WORK/$name.json")
}

cat >"$WORK/plain-plan.json" <<'PLAN'
{"name": "schema-plain", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2, "join_timeout_s": 20}, "connections": 400, "steps": [200, 400],
 "echo": {"rounds": 2}, "hold_s": 0.5, "server": {"interval_ms": 200},
 "thresholds": ["held_ratio >= 1.0", "failed == 0", "echo_p99_ms < 100000"],
 "local": {"agents": 2, "server": {"model": "threads", "stack_size": "64k"}}}
PLAN
run plain "$WORK/plain-plan.json"
expect "plain: status" "$(jq -r .status "$WORK/plain.json")" pass

cat >"$WORK/load-plan.json" <<'PLAN'
{"name": "schema-load", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2, "join_timeout_s": 20}, "connections": 200, "steps": [100, 200],
 "echo": {"rounds": 1}, "load": {"rate_per_s": [500, 1000], "duration_s": 1},
 "churn": {"rate_per_s": 100, "duration_s": 1}, "server": {"interval_ms": 200},
 "thresholds": ["failed == 0", "churn_failed == 0"],
 "local": {"agents": 2, "server": {"model": "epoll"}}}
PLAN
run load "$WORK/load-plan.json"
expect "load: status" "$(jq -r .status "$WORK/load.json")" pass
expect "load: entries a step" "$(jq -c '[.steps[].load | length]' "$WORK/load.json")" "[2,2]"
expect "load: churn a step" "$(jq -c '[.steps[].churn | type]' "$WORK/load.json")" \
	'["object","object"]'

# The checkpoint after step 1, then SIGINT during step 2.
cat >"$WORK/running-plan.json" <<'PLAN'
{"name": "schema-running", "target": {"host": "127.0.0.1", "port": 0},
 "agents": {"count": 2, "join_timeout_s": 20}, "connections": 200, "steps": [100, 200],
 "hold_s": 3, "server": {"interval_ms": 200},
 "local": {"agents": 2, "server": {"model": "threads"}}}
PLAN
"$coord" --quiet --report "$WORK/interrupted.json" "$WORK/running-plan.json" \
	>"$WORK/interrupted.out" 2>"$WORK/err" &
cpid=$!
for i in $(seq 300); do
	[ "$(jq -r .status "$WORK/interrupted.json" 2>/dev/null)" = running ] && break
	sleep 0.1
done
cp "$WORK/interrupted.json" "$WORK/running.json" 2>/dev/null
kill -INT $cpid
wait $cpid
rc=$?
expect "running: status" "$(jq -r .status "$WORK/running.json")" running
expect "running: steps" "$(jq '.steps | length' "$WORK/running.json")" 1
expect "interrupted: exit" "$rc" 3
expect "interrupted: status" "$(jq -r .status "$WORK/interrupted.json")" aborted
jq -r .error "$WORK/interrupted.json" | grep -q '^interrupted by SIGINT at t=' ||
	fail "interrupted: error $(jq -r .error "$WORK/interrupted.json")"
reports+=("$WORK/running.json" "$WORK/interrupted.json")

cat >"$WORK/join-plan.json" <<'PLAN'
{"name": "schema-join", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 1}, "connections": 10, "steps": [10]}
PLAN
run join "$WORK/join-plan.json" --bind "ipc://$WORK/join.ipc"
expect "join: status" "$(jq -r .status "$WORK/join.json")" aborted

# Agents and a server of our own: a stats endpoint nobody answers (degraded, server.error),
# and an agent fenced away from the target (it refuses its slice: aborted, agents[].why).
start_listener server "$server" --listen 127.0.0.1:0 --model epoll
dead=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$agent" --coordinator "ipc://$WORK/d.ipc" --name d1 >"$WORK/d1.out" 2>&1 &
LPIDS="$LPIDS $!"
cat >"$WORK/degraded-plan.json" <<PLAN
{"name": "schema-degraded", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 1, "join_timeout_s": 15}, "connections": 100, "echo": {"rounds": 1},
 "server": {"stats": "tcp://127.0.0.1:$dead", "interval_ms": 200}}
PLAN
run degraded "$WORK/degraded-plan.json" --bind "ipc://$WORK/d.ipc"
expect "degraded: status" "$(jq -r .status "$WORK/degraded.json")" degraded
expect "degraded: server.error" "$(jq -r '.server.error | length > 0' "$WORK/degraded.json")" true
"$agent" --coordinator "ipc://$WORK/r.ipc" --name r1 --allow-target 10.0.0.0/8 \
	>"$WORK/r1.out" 2>&1 &
LPIDS="$LPIDS $!"
cat >"$WORK/rejected-plan.json" <<PLAN
{"name": "schema-rejected", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 1, "join_timeout_s": 15}, "connections": 100}
PLAN
run rejected "$WORK/rejected-plan.json" --bind "ipc://$WORK/r.ipc"
expect "rejected: status" "$(jq -r .status "$WORK/rejected.json")" aborted
expect "rejected: agent" "$(jq -r '.agents[0] | .state + " " + (.why | length > 0 | tostring)' \
	"$WORK/rejected.json")" "rejected true"
stop_listener server

examples=0
for p in "$src"/examples/plans/*.json; do
	name=example-$(basename "$p" .json)
	if jq -e .local "$p" >/dev/null; then
		run "$name" "$p"
	else
		jq '.agents.join_timeout_s = 1 |
			if .server.stats then .server.stats = "tcp://127.0.0.1:9" else . end' "$p" \
			>"$WORK/$name-plan.json"
		run "$name" "$WORK/$name-plan.json" --bind "ipc://$WORK/$name.ipc"
		expect "$name: status" "$(jq -r .status "$WORK/$name.json")" aborted
	fi
	examples=$((examples + 1))
done
[ "$examples" -gt 0 ] || fail "no example plans in $src/examples/plans"

$check "$schema" "${reports[@]}" >"$WORK/check.out" 2>&1
rc=$?
cat "$WORK/check.out"
expect "schema check of ${#reports[@]} reports" "$rc" 0
expect "reports valid" "$(grep -c '^ok: ' "$WORK/check.out")" "${#reports[@]}"

# refused NAME REPORT JQ WORD...: the report changed by JQ fails, and the message
# names each WORD.
refused() {
	local name=$1 report=$2 change=$3 rc word
	shift 3
	jq "$change" "$report" >"$WORK/$name.json" || fail "$name: jq $change"
	$check "$schema" "$WORK/$name.json" >"$WORK/$name.check" 2>&1
	rc=$?
	expect "$name: refused" "$rc" 1
	for word in "$@"; do
		grep -qF -- "$word" "$WORK/$name.check" ||
			fail "$name: the message does not name $word: $(cat "$WORK/$name.check")"
	done
	echo "ok: $name: $(head -1 "$WORK/$name.check")"
}
refused top-key "$WORK/plain.json" '.undocumented_key = 1' "'undocumented_key'" "at (top level)"
refused load-key "$WORK/load.json" '.steps[1].load[0].undocumented_rate = 2' \
	"'undocumented_rate'" "at steps/1/load/0"
refused stats-key "$WORK/plain.json" '.steps[0].server.undocumented_kb = 3' \
	"'undocumented_kb'" "at steps/0/server"
refused timeline-key "$WORK/load.json" '.timeline.load[0].undocumented_ms = 4' \
	"'undocumented_ms'" "at timeline/load/0"
refused missing-key "$WORK/plain.json" 'del(.totals.held)' "'held' is a required property" \
	"at totals"
refused bad-status "$WORK/plain.json" '.status = "finished"' "'finished'" "at status"
refused null-count "$WORK/plain.json" '.totals.established = null' "at totals/established"
