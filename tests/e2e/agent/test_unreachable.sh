#!/bin/bash
# e2e.agent.unreachable: an agent whose coordinator does not answer says so
# within a few seconds, naming the endpoint, and keeps trying; an endpoint
# without a transport is a usage error (exit 2) that names the missing tcp://.
AGENT=$1
. "$(dirname "$0")/lib.sh"

out=$("$AGENT" --coordinator 127.0.0.1:5700 2>&1)
expect "no scheme: exit" $? 2
expect "no scheme: message" "$out" \
	"agent: --coordinator 127.0.0.1:5700: expected a ZeroMQ endpoint with its transport, e.g. tcp://127.0.0.1:5700"

# A free loopback port nobody listens on: bound, read back, released.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ep="tcp://127.0.0.1:$port"
"$AGENT" --coordinator "$ep" --name lonely >"$WORK/agent.out" 2>&1 &
pid=$!
LPIDS="$LPIDS $pid"
said=""
for i in $(seq 60); do
	said=$(grep -F "agent lonely: no answer from the coordinator at $ep for " "$WORK/agent.out")
	[ -n "$said" ] && break
	sleep 0.1
done
[ -n "$said" ] || fail "nothing said within 6 s: $(cat "$WORK/agent.out")"
case $said in
*"; still trying"*) echo "ok: said after $((i / 10)).$((i % 10)) s: $said" ;;
*) fail "line: $said" ;;
esac
kill -0 $pid 2>/dev/null || fail "the agent exited: $(cat "$WORK/agent.out")"
kill -TERM $pid
wait $pid 2>/dev/null
lines=$(wc -l <"$WORK/agent.out")
[ "$lines" -le 3 ] || fail "$lines lines in 6 s: $(cat "$WORK/agent.out")"
echo PASS
