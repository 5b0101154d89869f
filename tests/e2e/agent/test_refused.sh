#!/bin/bash
# e2e.agent.refused: a closed port counts every attempt as refused and the run ends.
AGENT=$1 FAULTY=$2
. "$(dirname "$0")/lib.sh"

PORT=$("$FAULTY" --free-port) || fail "no free port"
start=$(date +%s)
timeout 30 "$AGENT" --target 127.0.0.1:$PORT -n 200 --json >"$WORK/r.json" 2>"$WORK/r.err"
expect "exit status" $? 1
expect "ended within 10 s" "$([ $(($(date +%s) - start)) -le 10 ] && echo yes)" yes
expect attempted "$(jq .attempted "$WORK/r.json")" 200
expect established "$(jq .established "$WORK/r.json")" 0
expect failed.refused "$(jq .failed.refused "$WORK/r.json")" 200
expect "failed total" "$(jq '[.failed[]] | add' "$WORK/r.json")" 200
expect echo_ok "$(jq .echo_ok "$WORK/r.json")" 0
# With --json, stdout is the JSON: the failures are said on stderr as well.
grep -qx "agent: 200 of 200 connections failed: refused 200" "$WORK/r.err" ||
	fail "not said on stderr: $(grep -v '^agent: [a-z]* *[0-9.]*s' "$WORK/r.err")"
echo PASS
