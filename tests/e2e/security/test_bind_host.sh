#!/bin/bash
# e2e: --bind tcp://localhost:PORT works as the README says (libzmq's bind
# takes no host names: it used to fail with "No such device", exit 3). The
# name is resolved once, the resolved endpoint shown, the policy applied to
# the address really bound; a name that does not resolve is exit 2.
. "$(dirname "$0")/lib.sh"
coord=$1 AGENT=$2 server=$3

start_listener server "$server" --listen 127.0.0.1:0 --model epoll
plan named 127.0.0.1 "$PORT" 15 >"$WORK/plan.json"
"$coord" --bind 'tcp://localhost:*' --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err" &
cpid=$!
LPIDS="$LPIDS $cpid"
ep=$(wait_bound "$WORK/err")
case $ep in tcp://127.0.0.1:[0-9]*) ;; *) fail "bound $ep: $(cat "$WORK/err")" ;; esac
grep -qF "coordinator: --bind tcp://localhost:*: localhost is 127.0.0.1, binding tcp://127.0.0.1:*" "$WORK/err" ||
	fail "resolution not shown: $(cat "$WORK/err")"
grep -qF "the control plane on tcp://127.0.0.1:* is unauthenticated (no --curve-secret)" "$WORK/err" ||
	fail "policy: $(cat "$WORK/err")"
start_agent a1 --coordinator "tcp://localhost:${ep##*:}" --source-ip 127.0.0.46
wait $cpid
expect "bind tcp://localhost: exit" "$?" 0
expect "bind tcp://localhost: echo ok" "$(jq -r .agents[0].echo_ok "$WORK/r.json")" 20
kill -TERM $AGENT_PID
wait $AGENT_PID 2>/dev/null

# A concrete port, as the README writes it: the port is kept.
timeout 20 "$coord" --bind "tcp://localhost:$PORT" --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
grep -qF "binding tcp://127.0.0.1:$PORT" "$WORK/err" || fail "port: $(cat "$WORK/err")"
grep -q "No such device" "$WORK/err" && fail "still not resolved: $(cat "$WORK/err")"

timeout 20 "$coord" --bind tcp://no-such-host.invalid:5700 --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
expect "unresolvable host: exit" "$?" 2
grep -qF "coordinator: --bind tcp://no-such-host.invalid:5700: cannot resolve 'no-such-host.invalid' to an IPv4 address" "$WORK/err" ||
	fail "message: $(cat "$WORK/err")"

# A name for a non-loopback address is held to the keys-or---insecure policy.
name=$(hostname)
addr=$(getent ahostsv4 "$name" | awk 'NR == 1 {print $1}')
if [ -n "$addr" ] && [ "${addr%%.*}" != 127 ]; then
	timeout 20 "$coord" --bind "tcp://$name:5700" --report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
	expect "non-loopback name without keys: exit" "$?" 2
	grep -qF "coordinator: --bind tcp://$addr:5700 is reachable from other hosts" "$WORK/err" || fail "$(cat "$WORK/err")"
else
	echo "skip: $name does not resolve to a non-loopback IPv4 address"
fi
stop_listener server
exit 0
