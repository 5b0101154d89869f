#!/bin/bash
# Helpers shared by the tests/deploy scripts (sourced).

fail() {
	echo "FAIL: $*"
	exit 1
}

# deploy_build_deb BUILD_DIR OUT_DIR: builds the package from BUILD_DIR (as `make package`
# does) into OUT_DIR, prints its path.
deploy_build_deb() {
	local build=$1 out=$2
	cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$out.cpack.log" 2>&1 ||
		{ cat "$out.cpack.log" >&2; fail "cpack"; }
	local deb
	deb=$(ls "$out"/connscale_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || fail "cpack made no connscale_*.deb in $out"
	echo "$deb"
}

# deploy_free_port: a TCP port nothing uses right now, below the ephemeral range, so the
# clients of tests running beside this one cannot take it before the server binds it.
deploy_free_port() {
	python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(20000, max(low, 20001))
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port below the ephemeral range")
PY
}

# deploy_e2e DEPLOY_DIR INVENTORY PLAN WORK_DIR: the end-to-end flow both deploy.local and
# deploy.lab run against their inventory: site.yml installs and tunes (a second run changes
# nothing), run.yml runs PLAN (a pass: report fetched, numbers checked), then a plan whose
# threshold cannot hold (the play fails, the report is still fetched).
# The inventory has one [server], two [agents], one [coordinator]; the plan gets 600 connections.
deploy_e2e() {
	local deploy=$1 inventory=$2 plan=$3 work=$4 out rc
	export ANSIBLE_CONFIG=$deploy/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=False
	export ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_SSH_CONTROL_PATH_DIR=$work/cp
	cd "$deploy"

	ansible-playbook -i "$inventory" site.yml >"$work/site1.log" 2>&1 ||
		{ tail -n 60 "$work/site1.log"; fail "site.yml"; }
	echo "ok: site.yml installed and started everything"
	ansible-playbook -i "$inventory" site.yml >"$work/site2.log" 2>&1 ||
		{ tail -n 60 "$work/site2.log"; fail "site.yml (second run)"; }
	if grep -E '^[^ ]+ +: .*changed=[1-9]' "$work/site2.log"; then
		grep -B2 -E '^changed:' "$work/site2.log" | head -n 40
		fail "site.yml is not idempotent"
	fi
	echo "ok: site.yml second run changed nothing"

	local set='{"connections": 600, "steps": [300, 600], "hold_s": 1,
		"agents": {"join_timeout_s": 20}, "ramp": {"rate_per_s": 2000},
		"echo": {"rounds": 1, "interval_ms": 0}}'
	ansible-playbook -i "$inventory" run.yml -e "run_plan=$plan" -e "run_fetch_dir=$work/pass" \
		-e "{\"run_plan_set\": $set}" >"$work/run-pass.log" 2>&1 ||
		{ tail -n 60 "$work/run-pass.log"; fail "run.yml (passing plan)"; }
	local report=$work/pass/report.json
	[ -s "$report" ] || fail "no report fetched to $report"
	out=$(jq -r '[.status, .totals.established, (.agents | length),
		([.agents[].name] | sort | join(",")), (.server.samples | length > 0)] | @tsv' "$report")
	echo "report: $out"
	IFS=$'\t' read -r status established nagents names sampled <<<"$out"
	[ "$status" = pass ] || fail "status $status"
	[ "$established" = 600 ] || fail "established $established, want 600"
	[ "$nagents" = 2 ] || fail "$nagents agents in the report"
	[ "$names" = "$DEPLOY_E2E_AGENTS" ] || fail "agent names $names, want $DEPLOY_E2E_AGENTS"
	[ "$sampled" = true ] || fail "no server samples: the stats endpoint was not reached"
	if "$work/hosts/coord/usr/bin/coordinator" --help 2>&1 | grep -q -- --html; then
		grep -qi '<html' "$work/pass/report.html" 2>/dev/null || fail "report.html not fetched"
	fi
	echo "ok: run.yml passed, report fetched: 600 established by $names, server sampled"

	set +e
	ansible-playbook -i "$inventory" run.yml -e "run_plan=$plan" -e "run_fetch_dir=$work/fail" \
		-e '{"run_plan_set": {"connections": 600, "steps": [600], "hold_s": 0,
			"agents": {"join_timeout_s": 20}, "thresholds": ["echo_p99_ms < 0"]}}' \
		>"$work/run-fail.log" 2>&1
	rc=$?
	set -e
	[ $rc -ne 0 ] || { tail -n 30 "$work/run-fail.log"; fail "run.yml passed a run whose threshold failed"; }
	grep -q 'coordinator exited 1: thresholds failed' "$work/run-fail.log" ||
		{ tail -n 30 "$work/run-fail.log"; fail "run.yml failed without saying why"; }
	[ "$(jq -r .status "$work/fail/report.json")" = fail ] || fail "failed run's report not fetched"
	echo "ok: run.yml fails the play when thresholds fail (report still fetched)"
}
