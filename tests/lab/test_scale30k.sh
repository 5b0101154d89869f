#!/bin/bash
# lab.scale30k: 30,000 verified connections from 3 agent hosts (namespaces)
# to ONE thread-per-connection server port, driven by the coordinator through
# bench/scale -- more than one source address could ever open to one server
# port (28,232 with the default ip_local_port_range). Asserts on the report.
# Without root: bench/scale's message and exit 77 (skipped).
set -u
SCALE=$1 BUILD=$2
N=30000
SINGLE_SOURCE_PORTS=28232 # 60999 - 32768 + 1, the default range

. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" = 0 ]; then
	# Held until the end, so the "lab left up" check sees only this run.
	exec 9>/run/connscale-lab.lock
	flock -w 600 9 || fail "another lab run holds /run/connscale-lab.lock"
	export CONNSCALE_LAB_LOCKED=1
	lab_clear_stale "$(dirname "$0")/lab"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
r=$WORK/report.json
# Sanitizer builds (CONNSCALE_SCALE_ARGS from CMake) start 30,000 server threads and
# answer their echoes several times slower: a gentler rate and a longer echo timeout.
# shellcheck disable=SC2086
"$SCALE" $N 3 threads --build "$BUILD" --report "$r" --timeout 150 ${CONNSCALE_SCALE_ARGS:-} \
	>"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/out"
[ $rc = 77 ] && { cat "$WORK/err" >&2; exit 77; }
[ $rc = 0 ] || fail "bench/scale exit $rc: $(tail -20 "$WORK/err")"
[ -s "$r" ] || fail "no report"
q() { jq -r "$1" "$r"; }
expect status "$(q .status)" pass
expect "agents" "$(q '.agents | length')" 3
expect "agents done" "$(q '[.agents[] | select(.state == "done")] | length')" 3
expect "established" "$(q .totals.established)" $N
expect "failed" "$(q '[.totals.failed[]] | add')" 0
expect "echo verified" "$(q .totals.echo_ok)" $N
expect "echo errors" "$(q .totals.echo_errors)" 0
expect "server model" "$(q .server.final.model)" threads
expect "server conns_max" "$(q .server.final.conns_max)" $N
expect "server accepted" "$(q .server.final.conns_total)" $N
expect "server refused" "$(q '[.server.final.refused[]] | add')" 0
expect "one thread per connection at the plateau" "$(q '.steps[-1].server.threads >= 30000')" true
expect "more than one source could open" "$(($(q .totals.established) > SINGLE_SOURCE_PORTS))" 1
expect "each agent host below one source's limit" \
	"$(q "[.agents[].established | select(. > $SINGLE_SOURCE_PORTS)] | length")" 0
expect "per-connection memory measured" \
	"$(q '.server.user_kb_per_conn > 0 and .server.kernel_kb_per_conn > 0')" true
ip netns list | grep -q '^cs-' && fail "lab left up"
echo PASS
