#!/bin/bash
# e2e: who may bind and connect without keys. Nothing here listens beyond
# loopback: a non-loopback bind is either refused (exit 2) before it happens
# or aimed at an address this host does not have.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2

cat >"$WORK/plan.json" <<'PLAN'
{"name": "policy", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 1}, "connections": 1}
PLAN
# The default bind, tcp://*:5700, is not loopback.
"$coord" --quiet --report "$WORK/r.json" "$WORK/plan.json" >/dev/null 2>"$WORK/err"
expect "default bind without keys: exit" "$?" 2
grep -q "coordinator: --bind tcp://\*:5700 is reachable from other hosts" "$WORK/err" || fail "$(cat "$WORK/err")"
for flag in --curve-secret --authorized-agents --insecure; do
	grep -q -- "$flag" "$WORK/err" || fail "message does not name $flag: $(cat "$WORK/err")"
done
[ ! -e "$WORK/r.json" ] || fail "a report was written"
"$coord" --quiet --bind tcp://198.18.0.254:5700 --report "$WORK/r.json" "$WORK/plan.json" >/dev/null 2>"$WORK/err"
expect "non-loopback bind without keys: exit" "$?" 2
# --insecure: a warning, then the bind (which fails here: not our address).
"$coord" --quiet --insecure --bind tcp://198.18.0.254:5700 --report "$WORK/r.json" "$WORK/plan.json" >/dev/null 2>"$WORK/err"
rc=$?
grep -q "coordinator: warning: --insecure: the control plane on tcp://198.18.0.254:5700 is unauthenticated" "$WORK/err" ||
	fail "no warning: $(cat "$WORK/err")"
[ $rc -ne 2 ] || fail "--insecure was not honoured: $(cat "$WORK/err")"
echo "ok: --insecure warns and goes on"
# Loopback and ipc need no keys, and say so.
"$coord" --quiet --bind "ipc://$WORK/c.ipc" --report "$WORK/r.json" "$WORK/plan.json" >/dev/null 2>"$WORK/err"
expect "ipc without keys: exit (nobody joins)" "$?" 3
grep -q "the control plane on ipc://$WORK/c.ipc is unauthenticated (no --curve-secret)" "$WORK/err" || fail "$(cat "$WORK/err")"
# Half a key configuration is a usage error.
"$coord" --curve-secret /nonexistent "$WORK/plan.json" 2>"$WORK/err"
expect "--curve-secret alone: exit" "$?" 2
grep -q "needs --authorized-agents DIR" "$WORK/err" || fail "$(cat "$WORK/err")"
"$coord" --stats-key /nonexistent --bind "ipc://$WORK/c.ipc" "$WORK/plan.json" 2>"$WORK/err"
expect "--stats-key without keys: exit" "$?" 2
"$coord" --gen-keys "$WORK/k" >/dev/null
"$coord" --curve-secret "$WORK/k/coordinator.key" --authorized-agents "$WORK/empty" "$WORK/plan.json" 2>"$WORK/err"
expect "missing key directory: exit" "$?" 2
grep -q "$WORK/empty: cannot read the key directory: No such file or directory; refusing to run" "$WORK/err" || fail "$(cat "$WORK/err")"
mkdir "$WORK/empty"
"$coord" --curve-secret "$WORK/k/coordinator.key" --authorized-agents "$WORK/empty" "$WORK/plan.json" 2>"$WORK/err"
expect "empty key directory: exit" "$?" 2
grep -q "no \*.pub keys: nobody could be admitted" "$WORK/err" || fail "$(cat "$WORK/err")"

# Agents: no keys, no coordinator off this host.
out=$("$agent" --coordinator tcp://198.18.0.254:5700 2>&1)
expect "agent, remote coordinator without keys: exit" "$?" 2
grep -q -- "--curve-secret FILE --coordinator-key FILE, or --insecure" <<<"$out" || fail "$out"
out=$("$agent" --coordinator tcp://127.0.0.1:1 --curve-secret "$WORK/k/coordinator.key" 2>&1)
expect "agent, --curve-secret alone: exit" "$?" 2
grep -q -- "--curve-secret needs --coordinator-key FILE too" <<<"$out" || fail "$out"
out=$("$agent" --coordinator tcp://127.0.0.1:1 --curve-secret "$WORK/k/coordinator.key" --coordinator-key "$WORK/k/nope.pub" 2>&1)
expect "agent, missing coordinator key: exit" "$?" 2
grep -q "nope.pub: cannot open the public key: No such file or directory" <<<"$out" || fail "$out"
# The standalone fence, checked before anything connects.
out=$("$agent" --target 198.18.0.1:9 -n 1 2>&1)
expect "standalone target outside the fence: exit" "$?" 2
expect "standalone fence message" "$out" \
	"agent: --target 198.18.0.1:9 (198.18.0.1) is outside the allowed networks (127.0.0.0/8); widen them with --allow-target CIDR"
out=$("$agent" --target 127.0.0.1:9 -n 1 --allow-target 10.0.0.0/8 2>&1)
expect "loopback outside a narrowed fence: exit" "$?" 2
out=$("$agent" --target 127.0.0.1:9 -n 1 --allow-target 127.0.0.1/8 2>&1)
expect "fence with host bits: exit" "$?" 2
expect "fence with host bits: message" "$out" "agent: --allow-target: '127.0.0.1/8' has host bits set; did you mean 127.0.0.0/8?"
