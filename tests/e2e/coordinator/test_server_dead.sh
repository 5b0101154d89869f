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

start_stats_server "$server" --model epoll
stats=$STATS
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

# 3. A stats endpoint that answers, then answers garbage (to the right request):
#    sampling ends after 3 unreadable replies, the run is degraded, and a
#    server_max_conns threshold has no stale value to pass on. The first of the
#    three is a good body with a third frame after it: not taken either.
start_listener server "$server" --listen 127.0.0.1:0 --model epoll
/usr/bin/python3 - "$WORK/garbage.port" <<'PY' &
import json, sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.ROUTER)
port = s.bind_to_random_port("tcp://127.0.0.1")
open(sys.argv[1], "w").write(str(port))
good = json.dumps(dict(
    v=1, type="server_stats", model="epoll", processes=1, stack_size=0, uptime_ms=1,
    conns_current=0, conns_max=0, conns_total=0, resets=0, threads=1, fds=6, rss_kb=1316,
    hwm_kb=1316, pss_kb=464, kernel_stack_kb=64, slab_kb=0, page_tables_kb=196,
    user_kb_per_conn=0.0, kernel_kb_per_conn=0.0, cpu_user_s=0.01, cpu_sys_s=0.02,
    ctxsw_voluntary=5, ctxsw_involuntary=0, host_cpu_user_s=0.1, host_cpu_sys_s=0.1,
    host_cpu_softirq_s=0.0, host_cpu_idle_s=1.0, capacity=19992, capacity_limit="fake", process="",
    refused=dict(emfile=0, enfile=0, thread=0, max_conns=0, other=0))).encode()
n, until = 0, time.time() + 40
while time.time() < until:
    if s.poll(200):
        ident, seq, _ = s.recv_multipart()
        n += 1
        s.send_multipart([ident, seq, good] if n <= 2 else [ident, seq, good, b"more"]
                         if n == 3 else [ident, seq, b"{not json"])
PY
LPIDS="$LPIDS $!"
for i in $(seq 50); do [ -s "$WORK/garbage.port" ] && break; sleep 0.1; done
plan garbage 200 2 "tcp://127.0.0.1:$(cat "$WORK/garbage.port")" >"$WORK/garbage.json"
jq '.thresholds = ["server_max_conns < 100"]' "$WORK/garbage.json" >"$WORK/garbage2.json"
"$coord" --bind "ipc://$WORK/c.ipc" --report "$WORK/garbage-r.json" "$WORK/garbage2.json" \
	>"$WORK/garbage.out" 2>"$WORK/garbage.err"
expect "garbage: exit" "$?" 3
r=$WORK/garbage-r.json
expect "garbage: status" "$(jq -r .status "$r")" degraded
jq -r .server.error "$r" | grep -q "answered 3 unreadable replies in a row" ||
	fail "garbage: $(jq -r .server.error "$r")"
expect "garbage: final" "$(jq -r .server.final "$r")" null
# Its first two answers were good: read, and kept as samples (one may have come
# too late to be taken, never more than two).
expect "garbage: good answers kept" "$(jq '.server.samples | length | . >= 1 and . <= 2' "$r")" true
expect "garbage: stale threshold" "$(jq -c '.thresholds[0] | [.ok, .value]' "$r")" "[false,null]"
stop_listener server
