#!/bin/bash
# e2e: the server warns, once at start, when its stats endpoint is reachable
# from other hosts without CURVE keys (tcp://0.0.0.0), as the coordinator and
# agent do for their control planes; not on loopback, not with --curve-secret.
. "$(dirname "$0")/../agent/lib.sh"
server=$1

# stats_run NAME STATS [ARGS...]: a server with that stats endpoint, until it has bound it.
stats_run() {
	local name=$1 stats=$2 i
	shift 2
	start_listener "$name" "$server" --listen 127.0.0.1:0 --model epoll --stats "$stats" "$@"
	for i in $(seq 50); do
		grep -q "^server: stats on " "$WORK/$name.out" && break
		sleep 0.1
	done
	grep -q "^server: stats on " "$WORK/$name.out" || fail "$name: no stats endpoint: $(cat "$WORK/$name.out" "$WORK/$name.err")"
	stop_listener "$name"
}
warning="server: warning: the stats endpoint on tcp://0.0.0.0:"

stats_run any 'tcp://0.0.0.0:*'
expect "0.0.0.0 without keys: warnings" "$(grep -c "^$warning[0-9]* is reachable from other hosts and unauthenticated (no --curve-secret)" "$WORK/any.err")" 1

stats_run loopback 'tcp://127.0.0.1:*'
expect "loopback: warnings" "$(grep -c "warning" "$WORK/loopback.err")" 0

"$server" --gen-keys "$WORK/keys" >/dev/null || fail "gen-keys"
stats_run curve 'tcp://0.0.0.0:*' --curve-secret "$WORK/keys/server.key"
expect "0.0.0.0 with CURVE: warnings" "$(grep -c "warning" "$WORK/curve.err")" 0
