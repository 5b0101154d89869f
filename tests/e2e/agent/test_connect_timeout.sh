#!/bin/bash
# e2e.agent.connect_timeout: SYNs the kernel drops (a listener whose one-entry
# accept queue is full and never drained) end as `timeout` at --connect-timeout.
AGENT=$1 FAULTY=$2
. "$(dirname "$0")/lib.sh"

start_listener bh "$FAULTY" --blackhole
start=$(date +%s%N)
timeout 30 "$AGENT" --target 127.0.0.1:$PORT -n 40 --connect-timeout 400 --json \
	>"$WORK/r.json" 2>/dev/null
expect "exit status" $? 1
ms=$((($(date +%s%N) - start) / 1000000))
echo "run took $ms ms"
expect "ended after the timeout, within 5 s" "$([ $ms -ge 400 ] && [ $ms -le 5000 ] && echo yes)" yes
expect attempted "$(jq .attempted "$WORK/r.json")" 40
expect established "$(jq .established "$WORK/r.json")" 0
expect failed.timeout "$(jq .failed.timeout "$WORK/r.json")" 40
expect "failed total" "$(jq '[.failed[]] | add' "$WORK/r.json")" 40
stop_listener bh
echo PASS
