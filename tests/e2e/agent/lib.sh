# Shared helpers for the agent's e2e scripts (sourced, bash).
set -u

. "$(dirname "${BASH_SOURCE[0]}")/../../lib/assert.sh"

LPIDS=""
cleanup() {
	for p in $LPIDS; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
WORK=$(mktemp -d)
trap cleanup EXIT

# start_listener NAME CMD...: runs CMD in the background and waits (5 s at most)
# for its "listening on ADDR:PORT" line; sets PORT and <NAME>_PID.
start_listener() {
	local name=$1 i port=""
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	eval "${name}_PID=$!"
	LPIDS="$LPIDS $!"
	for i in $(seq 100); do
		port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/$name.out" | head -1)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || fail "$name did not start: $(cat "$WORK/$name.out" "$WORK/$name.err")"
	PORT=$port
}

# start_stats_server SERVER [ARGS...]: a server on 127.0.0.1:0 with its stats on a
# free loopback port; sets PORT, STATS and server_PID (its output in $WORK/server.*).
start_stats_server() {
	local bin=$1 i
	shift
	start_listener server "$bin" --listen 127.0.0.1:0 --stats 'tcp://127.0.0.1:*' "$@"
	STATS=""
	for i in $(seq 50); do
		STATS=$(sed -n 's/^server: stats on //p' "$WORK/server.out")
		[ -n "$STATS" ] && break
		sleep 0.1
	done
	[ -n "$STATS" ] || fail "no stats endpoint: $(cat "$WORK/server.out" "$WORK/server.err")"
}

# stop_listener NAME: SIGTERM, then wait up to 10 s; its stdout stays in $WORK/NAME.out.
stop_listener() {
	local pid i
	eval "pid=\$${1}_PID"
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null && fail "$1 ignored SIGTERM for 10 s"
	wait "$pid" 2>/dev/null
}

# Scale for slow builds (ASan): CONNSCALE_TEST_SCALE=4 divides connection counts by 4.
scaled() {
	echo $(($1 / ${CONNSCALE_TEST_SCALE:-1}))
}
