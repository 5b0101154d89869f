#!/bin/bash
# scale.agents: the control plane keeps its deadlines with many agents on this
# host's two cores. N agent processes (4 connections each) join one
# coordinator over ipc and run connect, echo, verify and close, RUNS times in a
# row; every run must pass with no agent lost, no message dropped and every
# connection held. Each agent process has four threads (main, worker, and
# libzmq's two), so 1,000 agents are 4,000 threads beside the coordinator's.
# usage: test_agents_scale.sh BUILD_DIR N RUNS
. "$(dirname "$0")/../agent/lib.sh"
build=$1 n=$2 runs=$3
per=4

start_stats_server "$build/server/server" --model epoll
for run in $(seq "$runs"); do
	ep="ipc://$WORK/c$run.ipc"
	cat >"$WORK/plan$run.json" <<PLAN
{"name": "agents-$n-run-$run", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": $n, "join_timeout_s": 300}, "connections": $((n * per)),
 "echo": {"rounds": 1}, "server": {"stats": "$STATS", "interval_ms": 500}}
PLAN
	"$build/coordinator/coordinator" --quiet --bind "$ep" --report "$WORK/r$run.json" \
		"$WORK/plan$run.json" >"$WORK/c$run.out" 2>"$WORK/c$run.err" &
	cpid=$!
	apids=()
	for i in $(seq "$n"); do
		"$build/agent/agent" --coordinator "$ep" --name "a$i" --threads 1 \
			>/dev/null 2>>"$WORK/agents$run.err" &
		apids+=($!)
	done
	LPIDS="$LPIDS ${apids[*]}"
	# Bounded: the coordinator's own join timeout is 300 s; the run itself takes seconds.
	timeout 420 tail --pid=$cpid -f /dev/null
	kill -INT $cpid 2>/dev/null
	wait $cpid
	rc=$?
	kill -TERM "${apids[@]}" 2>/dev/null
	wait "${apids[@]}" 2>/dev/null
	r=$WORK/r$run.json
	echo "run $run: exit $rc, $(jq -c '{status, agents: (.agents | length), lost: .totals.lost_agents, held: .totals.held, dropped: .dropped_messages, timing}' "$r")"
	if [ $rc != 0 ]; then
		grep -v '^\s*$' "$WORK/c$run.err" | grep -v "^\[" | head -20 >&2
		echo "run $run: failed by reason: $(jq -c '.totals.failed' "$r"), echo errors $(jq .totals.echo_errors "$r")" >&2
	fi
	expect "run $run: exit" "$rc" 0
	expect "run $run: status" "$(jq -r .status "$r")" pass
	expect "run $run: agents" "$(jq '.agents | length' "$r")" "$n"
	expect "run $run: lost agents" "$(jq .totals.lost_agents "$r")" 0
	expect "run $run: dropped messages" "$(jq .dropped_messages "$r")" 0
	expect "run $run: held" "$(jq .totals.held "$r")" $((n * per))
	# The server's own count at the plateau: every planned connection.
	expect "run $run: server's own count" "$(jq .steps[0].server.conns_current "$r")" $((n * per))
done
echo PASS
