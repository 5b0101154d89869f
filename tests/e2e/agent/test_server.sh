#!/bin/bash
# e2e.agent.server_{threads,epoll}: exact counts for N connections and K rounds
# against the project's server.
AGENT=$1 SERVER=$2 MODEL=$3 SRC=$4
. "$(dirname "$0")/lib.sh"

N=$(scaled 3000)
K=3
start_listener srv "$SERVER" --listen 127.0.0.1:0 --model $MODEL --stack-size 64k
"$AGENT" --target 127.0.0.1:$PORT -n $N --rounds $K --payload 256 --source-ip $SRC --json \
	>"$WORK/r.json" 2>"$WORK/agent.err"
rc=$?
stop_listener srv
expect "exit status" $rc 0
expect attempted "$(jq .attempted "$WORK/r.json")" $N
expect established "$(jq .established "$WORK/r.json")" $N
expect max_concurrent "$(jq .max_concurrent "$WORK/r.json")" $N
expect "failed total" "$(jq '[.failed[]] | add' "$WORK/r.json")" 0
expect echo_ok "$(jq .echo_ok "$WORK/r.json")" $N
expect echo_rounds "$(jq .echo_rounds "$WORK/r.json")" $((N * K))
expect lost "$(jq .lost "$WORK/r.json")" 0
echo PASS
