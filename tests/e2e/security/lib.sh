# Shared helpers for the security e2e scripts (sourced, bash): the agent
# helpers plus a server with a stats endpoint and a non-local plan.
. "$(dirname "${BASH_SOURCE[0]}")/../agent/lib.sh"

# start_server SERVER [ARGS...]: epoll server on 127.0.0.1:0 with stats on a free
# loopback port; sets PORT and STATS.
start_server() {
	local bin=$1
	shift
	start_stats_server "$bin" --model epoll "$@"
}

# plan NAME HOST PORT [JOIN_S] [STATS]: one agent, 20 connections, one echo round.
plan() {
	local stats=""
	[ -n "${5:-}" ] && stats=", \"server\": {\"stats\": \"$5\", \"interval_ms\": 200}"
	cat <<PLAN
{"name": "$1", "target": {"host": "$2", "port": $3},
 "agents": {"count": 1, "join_timeout_s": ${4:-15}}, "connections": 20,
 "echo": {"rounds": 1}, "hold_s": 0$stats}
PLAN
}

# start_agent NAME ARGS...: an agent in control mode in the background; its
# output in $WORK/agent-NAME.out, its pid in AGENT_PID.
start_agent() {
	local name=$1
	shift
	"$AGENT" --name "$name" "$@" >"$WORK/agent-$name.out" 2>&1 &
	AGENT_PID=$!
	LPIDS="$LPIDS $!"
}

# wait_bound FILE: the coordinator's "waiting for agents on ENDPOINT" (10 s at most).
wait_bound() {
	local i ep=""
	for i in $(seq 100); do
		ep=$(sed -n 's/^coordinator: waiting for agents on \([^ ]*\).*/\1/p' "$1")
		[ -n "$ep" ] && break
		sleep 0.1
	done
	[ -n "$ep" ] || fail "the coordinator did not bind: $(cat "$1")"
	echo "$ep"
}
