#!/bin/bash
# e2e: every plan in examples/plans is exercised.
#  - "local" plans run end to end on this host and pass: every planned
#    connection held, none failed, the agents named as the plan names them,
#    every load message and churn connection verified (their latency and
#    achieved-rate thresholds are left out: timing on a shared host is for
#    bench/, not for a test);
#  - lab plans (their target is the lab's 198.18.0.1) are loaded, validated and
#    bound by the coordinator, which is then interrupted while it waits for
#    agents: exit 3, and the report carries the plan as written. Their
#    server.stats is pointed at a dead loopback port first, so nothing leaves
#    this host.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 examples=$2
# Every example, by name and kind: a plan added to examples/plans without a line
# here fails the count at the end.
plans="local-demo.json:local local-epoll.json:local local-load.json:local
	local-command.json:local steps-compare.json:lab threads-30k.json:lab weights.json:lab"
n=0
for entry in $plans; do
	file=${entry%%:*} kind=${entry#*:}
	name=${file%.json}
	p=$examples/$file
	[ -f "$p" ] || fail "$name: no $p"
	expect "$name: kind" "$(jq -r 'if has("local") then "local" else "lab" end' "$p")" "$kind"
	if [ "$kind" = local ]; then
		# The plan as written, less its latency and rate limits: a test on a shared,
		# busy host judges counts; timing is the benchmarks' business.
		jq '.thresholds |= map(select(test("_(p[0-9]+|max|mean)_ms|achieved_ratio") | not))' "$p" \
			>"$WORK/$name.json"
		# From the source tree: a local.server.command names its server from there.
		(cd "$examples/../.." && "$coord" --quiet --report "$WORK/$name-r.json" \
			"$WORK/$name.json" >"$WORK/$name.out" 2>"$WORK/$name.err")
		rc=$?
		[ $rc = 0 ] || cat "$WORK/$name.out" "$WORK/$name.err" >&2
		expect "$name: exit" "$rc" 0
		r=$WORK/$name-r.json
		expect "$name: held" "$(jq -r .totals.held "$r")" "$(jq -r .connections "$p")"
		expect "$name: failed" "$(jq -r '[.totals.failed[]] | add' "$r")" 0
		# A plan with a load or churn has them at every step, every message and
		# connection verified (their ratios and latency are thresholds left out above).
		if jq -e .load "$p" >/dev/null; then
			expect "$name: load rates a step" "$(jq -c '[.steps[].load | length]' "$r")" \
				"$(jq -c '[.steps[] | '"$(jq '.load.rate_per_s | length' "$p")"']' "$r")"
			expect "$name: load all verified" \
				"$(jq '[.steps[].load[] | .verified == .sent and .errors == 0] | all' "$r")" true
		fi
		if jq -e .churn "$p" >/dev/null; then
			expect "$name: churn all ok" \
				"$(jq '[.steps[].churn | .ok == .attempted and .ok > 0] | all' "$r")" true
		fi
		want=$(jq -c '.agents.names // empty | sort' "$p")
		[ -z "$want" ] || expect "$name: agent names" "$(jq -c '[.agents[].name] | sort' "$r")" "$want"
	else
		jq 'if .server.stats then .server.stats = "tcp://127.0.0.1:9" else . end' "$p" \
			>"$WORK/$name.json"
		"$coord" --bind "ipc://$WORK/$name.ipc" --report "$WORK/$name-r.json" "$WORK/$name.json" \
			>"$WORK/$name.out" 2>"$WORK/$name.err" &
		cpid=$!
		for i in $(seq 50); do
			grep -q "waiting for agents" "$WORK/$name.err" && break
			sleep 0.1
		done
		grep -q "waiting for agents" "$WORK/$name.err" || fail "$name: $(cat "$WORK/$name.err")"
		kill -INT $cpid
		wait $cpid
		expect "$name: exit (interrupted)" "$?" 3
		r=$WORK/$name-r.json
		# The report's plan as parsed: the same name, levels, agents and thresholds.
		what='[.name, .target, .connections, .agents.count, .agents.names, .thresholds]'
		expect "$name: plan in the report" "$(jq -c ".plan | $what" "$r")" "$(jq -c "$what" "$p")"
		jq -r .error "$r" | grep -q "^interrupted by SIGINT at t=" || fail "$name: $(jq -r .error "$r")"
	fi
	n=$((n + 1))
done
expect "example plans" "$n" "$(find "$examples" -name '*.json' | wc -l)"
