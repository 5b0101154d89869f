#!/bin/bash
# lab.smoke: the lab comes up, its hosts reach each other over TCP (a verified
# echo from every agent host and from the root namespace to the server), nothing
# is routable off the lab, `down` restores the host sysctls to their exact old
# values, and `down` is safe twice and after an interrupted run. Without root:
# the lab's own message and exit 77 (skipped).
set -u
LAB=$1 SERVER=$2 AGENT=$3
SYSCTLS="kernel/pid_max kernel/threads-max vm/max_map_count"

. "$(dirname "$0")/lib.sh"
snapshot() {
	local k
	for k in $SYSCTLS; do printf '%s=%s ' "$k" "$(cat "/proc/sys/$k")"; done
}

lab_begin 2
SPID=""
trap '[ -n "$SPID" ] && kill -TERM $SPID 2>/dev/null; "$LAB" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT

# Without privileges: skipped with a message, never passed.
if command -v setpriv >/dev/null 2>&1; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$LAB" up 1 >"$WORK/np.out" 2>&1
	expect "unprivileged up exit" $? 77
	grep -q "SKIP: the network-namespace lab needs root" "$WORK/np.out" ||
		fail "no skip message: $(cat "$WORK/np.out")"
fi

"$LAB" down >/dev/null || fail "down before up"
before=$(snapshot)
root_range=$(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)
"$LAB" up 2 >"$WORK/up.out" 2>&1 || fail "up: $(cat "$WORK/up.out")"
expect "pid_max raised" "$(($(cat /proc/sys/kernel/pid_max) >= 1000000))" 1
expect "threads-max raised" "$(($(cat /proc/sys/kernel/threads-max) >= 1000000))" 1
expect "max_map_count raised" "$(($(cat /proc/sys/vm/max_map_count) >= 1000000))" 1
expect "agent2 port range" "$("$LAB" exec agent2 cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' ' ')" "1024 65535"
expect "server somaxconn" "$("$LAB" exec server cat /proc/sys/net/core/somaxconn)" 65535
expect "root port range untouched" "$(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)" "$root_range"
"$LAB" status >"$WORK/status.out" || fail "status while up"
grep -q "cs-agent2 *198.18.0.12/15" "$WORK/status.out" || fail "status: $(cat "$WORK/status.out")"

# Nothing leaves the lab: no default route, an off-lab address is unreachable.
for h in server agent1 agent2; do
	expect "$h default route" "$("$LAB" exec $h ip -4 route show default)" ""
	"$LAB" exec $h ip -4 route get 192.0.2.1 >/dev/null 2>&1 && fail "$h can route to 192.0.2.1"
done

ready_start_server "$WORK/server" "$LAB" exec server "$SERVER" --listen 198.18.0.1:1234 --model epoll
ok=$?
SPID=$SERVER_PID
[ $ok = 0 ] || fail "the server did not start"
ALLOW=""
"$AGENT" --help 2>&1 | grep -q -- --allow-target && ALLOW="--allow-target 198.18.0.0/15"
for h in agent1:198.18.0.11 agent2:198.18.0.12 root:198.18.0.254; do
	# shellcheck disable=SC2086 # ALLOW: an option and its value
	"$LAB" exec "${h%%:*}" "$AGENT" $ALLOW --target 198.18.0.1:1234 -n 100 --source-ip "${h#*:}" \
		--connect-timeout 2000 --echo-timeout 2000 --json >"$WORK/a.json" 2>"$WORK/a.err" ||
		fail "${h%%:*}: agent failed: $(cat "$WORK/a.err")"
	expect "${h%%:*} -> server established" "$(jq .established "$WORK/a.json")" 100
	expect "${h%%:*} -> server echo verified" "$(jq .echo_ok "$WORK/a.json")" 100
done
kill -TERM $SPID
wait $SPID
SPID=""

"$LAB" down >"$WORK/down.out" 2>&1 || fail "down: $(cat "$WORK/down.out")"
expect "sysctls restored" "$(snapshot)" "$before"
expect "namespaces gone" "$(ip netns list | grep -c '^cs-')" 0
ip link show csbr0 >/dev/null 2>&1 && fail "bridge csbr0 still there"
expect "second down" "$("$LAB" down)" "lab: nothing up"
"$LAB" status >/dev/null
expect "status when down" $? 3

# An interrupted run (killed before its trap ran): the state survives, a new
# `up` refuses, `down` still restores the exact old values.
bash -c "'$LAB' up 1 >/dev/null && kill -KILL \$\$"
"$LAB" up 1 >"$WORK/again.out" 2>&1 && fail "second up succeeded"
grep -q "already up" "$WORK/again.out" || fail "second up: $(cat "$WORK/again.out")"
"$LAB" down >/dev/null || fail "down after a killed run"
expect "sysctls restored after a killed run" "$(snapshot)" "$before"
echo PASS
