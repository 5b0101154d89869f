#!/bin/bash
# e2e.agent.invocation: bad options and preflight refusals exit 2 with a sentence
# naming the option or the limit; nothing is attempted.
AGENT=$1
. "$(dirname "$0")/lib.sh"

out=$("$AGENT" --target 127.0.0.1:1 -n 5 --rate fast 2>&1)
expect "bad option: exit" $? 2
expect "bad option: message" "$out" "agent: --rate: expected a non-negative integer, got 'fast'"

out=$("$AGENT" -n 5 2>&1)
expect "missing target: exit" $? 2
expect "missing target: message" "$out" "agent: missing --target HOST:PORT (see agent --help)"

out=$("$AGENT" --target 127.0.0.1:1 -n 5 --source-ip 127.0.0.1,192.0.2.77 2>&1)
expect "absent source: exit" $? 2
expect "absent source: message" "$out" \
	"agent: preflight: source address 192.0.2.77 is not present on this host (bind: Cannot assign requested address); add it (ip addr add 192.0.2.77/32 dev IFACE) or drop it from --source-ip"

hard=$(ulimit -Hn)
n=$((hard + 1))
out=$("$AGENT" --target 127.0.0.1:1 -n $n 2>&1)
expect "open files: exit" $? 2
case $out in
"agent: preflight: -n "*" open files but the open-files limit (RLIMIT_NOFILE) is $hard; raise it"*) echo "ok: open files message: $out" ;;
*) fail "open files message: $out" ;;
esac

"$AGENT" --help | grep -q "^usage: agent --target HOST:PORT -n N" || fail "--help"
echo PASS
