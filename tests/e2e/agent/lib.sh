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

# start_listener NAME CMD...: runs CMD --ready-fd 3 in the background (the server
# and faulty_server both write their ready line there) and waits (5 s at most) for
# that line, not for a banner; sets PORT and <NAME>_PID.
start_listener() {
	local name=$1 i port="" ready
	shift
	ready=$WORK/$name.ready
	: >"$ready"
	"$@" --ready-fd 3 >"$WORK/$name.out" 2>"$WORK/$name.err" 3>"$ready" &
	eval "${name}_PID=$!"
	LPIDS="$LPIDS $!"
	for i in $(seq 100); do
		port=$(jq -r '.port // empty' "$ready" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || fail "$name did not start: $(cat "$ready" "$WORK/$name.out" "$WORK/$name.err")"
	PORT=$port
}

# start_stats_server SERVER [ARGS...]: a server on 127.0.0.1:0 with its stats on a
# free loopback port; sets PORT, STATS and server_PID (its output in $WORK/server.*).
# Waits (10 s at most) for the server's --ready-fd line, not for its banner.
start_stats_server() {
	local bin=$1 i ready=$WORK/server.ready
	shift
	: >"$ready"
	"$bin" --listen 127.0.0.1:0 --stats 'tcp://127.0.0.1:*' --ready-fd 3 "$@" \
		>"$WORK/server.out" 2>"$WORK/server.err" 3>"$ready" &
	server_PID=$!
	LPIDS="$LPIDS $!"
	for i in $(seq 200); do
		grep -q '^{.*}$' "$ready" && break
		kill -0 "$server_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q '^{.*}$' "$ready" ||
		fail "server did not start: $(cat "$ready" "$WORK/server.out" "$WORK/server.err")"
	read -r PORT STATS < <(/usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["port"], r["stats"])' "$ready")
	[ -n "$STATS" ] || fail "no stats endpoint in the ready line: $(cat "$ready")"
}

# stats_sample NAME [ENDPOINT [TIMEOUT_MS]]: the server's stats now (ENDPOINT: $STATS),
# validated by $stats_dump (tests/e2e/lib/stats_probe.c), into $WORK/NAME.json.
stats_sample() {
	"$stats_dump" "${2:-$STATS}" "${3:-3000}" >"$WORK/$1.json" || fail "stats_dump $1 failed"
}

# stats_field NAME KEY: one field of a sample (a jq path; null when absent).
stats_field() {
	jq -r ".$2" "$WORK/$1.json"
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
