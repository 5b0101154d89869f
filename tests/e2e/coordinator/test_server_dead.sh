#!/bin/bash
# e2e: a dead or absent server is noticed at once and not waited for.
#  1. kill -9 of the server during the hold: "the server stopped answering at
#     t=..." within 2 s, the run ends without 15 s waits per sample, the report
#     has no stale server.final, held is 0, and the run is degraded (exit 3);
#  2. a stats endpoint nobody answers: "the server never answered at ENDPOINT"
#     within 2 s of the agents joining, the run is not slowed, and it is degraded
#     (exit 3: the memory it was asked to measure was not), the report saying why.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2 server=$3 probe=$4
src=127.0.0.23

plan() { # plan NAME CONNECTIONS HOLD_S STATS
	cat <<PLAN
{"name": "$1", "target": {"host": "127.0.0.1", "port": $PORT},
 "agents": {"count": 1, "join_timeout_s": 15}, "connections": $2,
 "echo": {"rounds": 1}, "hold_s": $3,
 "server": {"stats": "$4", "interval_ms": 200}}
PLAN
}
ms() { echo $(($(date +%s%N) / 1000000)); }

start_listener server "$server" --listen 127.0.0.1:0 --model epoll --stats 'tcp://127.0.0.1:*'
for i in $(seq 50); do
	stats=$(sed -n 's/^server: stats on //p' "$WORK/server.out")
	[ -n "$stats" ] && break
	sleep 0.1
done
[ -n "$stats" ] || fail "no stats endpoint"
"$agent" --coordinator "ipc://$WORK/c.ipc" --name a --source-ip $src >"$WORK/agent.out" 2>&1 &
LPIDS="$LPIDS $!"

# 1. The server killed during the hold.
plan killed 1000 8 "$stats" >"$WORK/killed.json"
"$coord" --bind "ipc://$WORK/c.ipc" --report "$WORK/killed-r.json" "$WORK/killed.json" \
	>"$WORK/killed.out" 2>"$WORK/killed.err" &
cpid=$!
"$probe" "$stats" 1000 20000 >/dev/null || fail "the server never held 1000: $(cat "$WORK/killed.err")"
sleep 1
kill -KILL "$server_PID"
killed=$(ms)
for i in $(seq 40); do
	grep -q "the server stopped answering at t=" "$WORK/killed.err" && break
	sleep 0.1
done
took=$(($(ms) - killed))
grep -q "the server stopped answering at t=" "$WORK/killed.err" ||
	fail "not noticed within 4 s: $(cat "$WORK/killed.err")"
[ "$took" -le 2500 ] || fail "noticed $took ms after the kill"
echo "ok: the server's death said $took ms after kill -9"
wait $cpid
code=$?
ended=$(($(ms) - killed))
expect "killed: exit" "$code" 3
expect "killed: status" "$(jq -r .status "$WORK/killed-r.json")" degraded
# The hold had ~7 s left; no 15 s sample waits on top of it.
[ "$ended" -le 14000 ] || fail "the run went on for $ended ms after the kill"
r=$WORK/killed-r.json
expect "killed: final" "$(jq -r .server.final "$r")" null
expect "killed: error" "$(jq -r '.server.error | test("^the server stopped answering at t=[0-9.]+ s")' "$r")" true
expect "killed: held" "$(jq -r .totals.held "$r")" 0
expect "killed: failures" "$(jq -r '.totals.failed | .reset + .eof_early' "$r")" 1000
grep -q "server silent" "$WORK/killed.err" || fail "the progress line did not say the server is silent"
grep -q "^  the server stopped answering at t=" "$WORK/killed.out" ||
	fail "the summary does not say it: $(cat "$WORK/killed.out")"

# 2. A stats endpoint nobody answers (the server itself is up).
start_listener server "$server" --listen 127.0.0.1:0 --model epoll
dead=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
plan silent 200 0 "tcp://127.0.0.1:$dead" >"$WORK/silent.json"
start=$(ms)
"$coord" --bind "ipc://$WORK/c.ipc" --report "$WORK/silent-r.json" "$WORK/silent.json" \
	>"$WORK/silent.out" 2>"$WORK/silent.err"
code=$?
took=$(($(ms) - start))
expect "silent: exit" "$code" 3
expect "silent: status" "$(jq -r .status "$WORK/silent-r.json")" degraded
r=$WORK/silent-r.json
expect "silent: error" "$(jq -r .server.error "$r")" "the server never answered at tcp://127.0.0.1:$dead"
expect "silent: stats" "$(jq -r .server.stats "$r")" "tcp://127.0.0.1:$dead"
expect "silent: held" "$(jq -r .totals.held "$r")" 200
[ "$took" -le 8000 ] || fail "a silent stats endpoint slowed the run to $took ms"
echo "ok: a silent stats endpoint said, the run took $took ms"
stop_listener server
