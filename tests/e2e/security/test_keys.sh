#!/bin/bash
# e2e: --gen-keys writes NAME.pub (40 Z85 characters and a newline) and
# NAME.key (mode 0600) for the coordinator, the agent and the server, prints
# both paths, and refuses to overwrite an existing pair (exit 2, files untouched).
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2 server=$3
umask 022

mode() { stat -c %a "$1"; }

"$coord" --gen-keys "$WORK/k" >"$WORK/out" 2>"$WORK/err"
expect "coordinator --gen-keys exit" "$?" 0
grep -qx "coordinator: public key $WORK/k/coordinator.pub" "$WORK/out" || fail "paths: $(cat "$WORK/out")"
grep -qx "coordinator: secret key $WORK/k/coordinator.key (mode 0600)" "$WORK/out" || fail "paths: $(cat "$WORK/out")"
expect "coordinator.key mode" "$(mode "$WORK/k/coordinator.key")" 600
expect "coordinator.pub mode" "$(mode "$WORK/k/coordinator.pub")" 644
expect "key dir mode" "$(mode "$WORK/k")" 700
expect "coordinator.pub size" "$(stat -c %s "$WORK/k/coordinator.pub")" 41
# The alphabet is the unit test's business (unit.keys); here: one 40-character line.
grep -qxE '.{40}' "$WORK/k/coordinator.pub" || fail "not one key line: $(cat "$WORK/k/coordinator.pub")"

"$agent" --gen-keys "$WORK/k" --name a1 >"$WORK/out" 2>"$WORK/err"
expect "agent --gen-keys exit" "$?" 0
grep -qx "agent: secret key $WORK/k/a1.key (mode 0600)" "$WORK/out" || fail "paths: $(cat "$WORK/out")"
expect "a1.key mode" "$(mode "$WORK/k/a1.key")" 600
"$agent" --gen-keys "$WORK/h" >"$WORK/out" 2>"$WORK/err"
expect "agent default name exit" "$?" 0
[ -f "$WORK/h/$(hostname).pub" ] || fail "no $(hostname).pub: $(ls "$WORK/h")"

"$server" --gen-keys "$WORK/k" >"$WORK/out" 2>"$WORK/err"
expect "server --gen-keys exit" "$?" 0
expect "server.key mode" "$(mode "$WORK/k/server.key")" 600
[ "$(cat "$WORK/k/server.pub")" != "$(cat "$WORK/k/coordinator.pub")" ] || fail "two pairs are the same"

# A second run must not touch the pair, whichever half exists.
before=$(cat "$WORK/k/coordinator.key" "$WORK/k/coordinator.pub" | md5sum)
"$coord" --gen-keys "$WORK/k" >"$WORK/out" 2>"$WORK/err"
expect "overwrite refused: exit" "$?" 2
grep -q "coordinator.key: File exists; refusing to overwrite a key" "$WORK/err" || fail "message: $(cat "$WORK/err")"
expect "pair untouched" "$(cat "$WORK/k/coordinator.key" "$WORK/k/coordinator.pub" | md5sum)" "$before"
rm "$WORK/k/a1.key"
"$agent" --gen-keys "$WORK/k" --name a1 >"$WORK/out" 2>"$WORK/err"
expect "overwrite of a .pub refused: exit" "$?" 2
grep -q "a1.pub: File exists; refusing to overwrite a key" "$WORK/err" || fail "message: $(cat "$WORK/err")"
[ ! -e "$WORK/k/a1.key" ] || fail "a half pair was left behind"
"$server" --gen-keys "$WORK/k" >"$WORK/out" 2>"$WORK/err"
expect "server overwrite refused: exit" "$?" 2

# A secret key others can read is refused where it is used.
chmod 644 "$WORK/k/coordinator.key"
echo '{"name": "x", "target": {"host": "127.0.0.1", "port": 9}, "agents": {"count": 1}, "connections": 1}' >"$WORK/plan.json"
"$coord" --curve-secret "$WORK/k/coordinator.key" --authorized-agents "$WORK/k" "$WORK/plan.json" >/dev/null 2>"$WORK/err"
expect "world-readable secret: exit" "$?" 2
grep -q "coordinator.key: the secret key is readable by group or others (mode 0644); chmod 600 it" "$WORK/err" ||
	fail "message: $(cat "$WORK/err")"
