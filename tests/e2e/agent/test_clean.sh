#!/bin/bash
# e2e.agent.clean: exact counts against a faithful echo server (the faulty one with no
# faults), back-to-back rounds and --interval rounds; exit status 0; the table mode.
AGENT=$1 FAULTY=$2
. "$(dirname "$0")/lib.sh"

N=$(scaled 3000)
start_listener fs "$FAULTY"
"$AGENT" --target 127.0.0.1:$PORT -n $N --rounds 3 --source-ip 127.0.0.11 --json \
	>"$WORK/r.json" 2>"$WORK/agent.err"
expect "exit status" $? 0
expect attempted "$(jq .attempted "$WORK/r.json")" $N
expect established "$(jq .established "$WORK/r.json")" $N
expect max_concurrent "$(jq .max_concurrent "$WORK/r.json")" $N
expect "failed total" "$(jq '[.failed[]] | add' "$WORK/r.json")" 0
expect echo_ok "$(jq .echo_ok "$WORK/r.json")" $N
expect echo_rounds "$(jq .echo_rounds "$WORK/r.json")" $((N * 3))
expect "hist.connect.count" "$(jq .hist.connect.count "$WORK/r.json")" $N
expect "hist.echo.count" "$(jq .hist.echo.count "$WORK/r.json")" $((N * 3))
grep -q "established $N/$N" "$WORK/agent.err" || fail "no progress line on stderr"

# --interval: 4 rounds 100 ms apart take >= 300 ms; payload larger than a segment.
M=$(scaled 400)
start=$(date +%s%N)
"$AGENT" --target 127.0.0.1:$PORT -n $M --rounds 4 --interval 100 --payload 5000 \
	--rate 20000 --source-ip 127.0.0.11 --json >"$WORK/i.json" 2>/dev/null
expect "interval exit status" $? 0
ms=$((($(date +%s%N) - start) / 1000000))
expect "interval run took >= 300 ms" "$([ $ms -ge 300 ] && echo yes)" yes
expect "interval echo_rounds" "$(jq .echo_rounds "$WORK/i.json")" $((M * 4))

# Table mode: one line per section, exit 0.
"$AGENT" --target 127.0.0.1:$PORT -n 10 --source-ip 127.0.0.11 >"$WORK/t.txt" 2>/dev/null
expect "table exit status" $? 0
grep -q "^connections  target 10  attempted 10  established 10" "$WORK/t.txt" || fail "table: $(cat "$WORK/t.txt")"
stop_listener fs
expect "server accepted" "$(sed -n 's/.*accepted \([0-9]*\).*/\1/p' "$WORK/fs.out")" $((N + M + 10))
echo PASS
