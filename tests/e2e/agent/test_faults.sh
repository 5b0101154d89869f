#!/bin/bash
# e2e.agent.faults: the agent's mismatch / eof_early / timeout counts equal exactly
# what the faulty server did; everything else verifies; exit status 1.
AGENT=$1 FAULTY=$2
. "$(dirname "$0")/lib.sh"

N=$(scaled 1200)
start_listener fs "$FAULTY" --flip-every 7 --close-every 11 --stall-every 13
"$AGENT" --target 127.0.0.1:$PORT -n $N --rounds 3 --payload 200 --echo-timeout 700 \
	--source-ip 127.0.0.12 --json >"$WORK/r.json" 2>"$WORK/agent.err"
rc=$?
stop_listener fs
cat "$WORK/fs.out"
read -r accepted flipped closed stalled < <(sed -n \
	's/faulty_server: accepted \([0-9]*\) flipped \([0-9]*\) closed \([0-9]*\) stalled \([0-9]*\)/\1 \2 \3 \4/p' \
	"$WORK/fs.out")
[ -n "${stalled:-}" ] || fail "no summary from faulty_server"
expect "faults applied (flipped+closed+stalled > 0 each)" \
	"$([ "$flipped" -gt 0 ] && [ "$closed" -gt 0 ] && [ "$stalled" -gt 0 ] && echo yes)" yes
expect "exit status" $rc 1
expect accepted "$accepted" $N
expect attempted "$(jq .attempted "$WORK/r.json")" $N
expect established "$(jq .established "$WORK/r.json")" $N
expect failed.mismatch "$(jq .failed.mismatch "$WORK/r.json")" $flipped
expect failed.eof_early "$(jq .failed.eof_early "$WORK/r.json")" $closed
expect failed.timeout "$(jq .failed.timeout "$WORK/r.json")" $stalled
expect "failed.{refused,reset,addr_not_available,other}" \
	"$(jq -c '[.failed.refused,.failed.reset,.failed.addr_not_available,.failed.other]' "$WORK/r.json")" \
	"[0,0,0,0]"
bad=$((flipped + closed + stalled))
expect echo_errors "$(jq .echo_errors "$WORK/r.json")" $bad
expect echo_ok "$(jq .echo_ok "$WORK/r.json")" $((N - bad))
expect echo_rounds "$(jq .echo_rounds "$WORK/r.json")" $(((N - bad) * 3))
expect "latency.echo.count" "$(jq .latency.echo.count "$WORK/r.json")" $(((N - bad) * 3))
expect "hist.echo.count" "$(jq .hist.echo.count "$WORK/r.json")" $(((N - bad) * 3))
echo PASS
