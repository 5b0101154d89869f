#!/bin/bash
# e2e: a plan, key or authorized-keys file that is a FIFO, a device or a
# directory is refused at once (a FIFO used to block the open forever), with
# the path and what it is; a symlink to a regular key file is still a key
# (systemd credentials, key stores). Coordinator, agent and server alike.
. "$(dirname "$0")/../agent/lib.sh"
coord=$1 agent=$2 server=$3

cat >"$WORK/plan.json" <<'PLAN'
{"name": "special", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 1}, "connections": 1}
PLAN
mkfifo "$WORK/fifo"
"$coord" --gen-keys "$WORK/k" >/dev/null || fail "gen-keys"
mkdir "$WORK/auth" "$WORK/fifo-auth"
cp "$WORK/k/coordinator.pub" "$WORK/auth/"
cp "$WORK/k/coordinator.pub" "$WORK/fifo-auth/"
mkfifo "$WORK/fifo-auth/z.pub"
K=$WORK/k/coordinator.key P=$WORK/k/coordinator.pub
ep="ipc://$WORK/c.ipc"

# refused NAME WANT_EXIT MESSAGE CMD...: exits WANT_EXIT ("fail": any failure) within 10 s,
# MESSAGE on its output.
refused() {
	local name=$1 want=$2 msg=$3 rc
	shift 3
	timeout 10 "$@" >"$WORK/out" 2>&1 </dev/null
	rc=$?
	[ $rc -ne 124 ] || fail "$name: still waiting after 10 s"
	[ "$want" = fail ] && [ $rc -ne 0 ] && want=$rc
	expect "$name: exit" "$rc" "$want"
	grep -qF -- "$msg" "$WORK/out" || fail "$name: message: $(cat "$WORK/out")"
}
refused "FIFO plan" 2 "coordinator: $WORK/fifo: cannot read: Is a FIFO (a plan must be a regular file)" \
	"$coord" "$WORK/fifo"
refused "device plan" 2 "coordinator: /dev/zero: cannot read: Is a device (a plan must be a regular file)" \
	"$coord" /dev/zero
refused "directory plan" 2 "coordinator: $WORK: cannot read: Is a directory" "$coord" "$WORK"
refused "FIFO --curve-secret" 2 "coordinator: $WORK/fifo: the secret key is a FIFO, not a regular file" \
	"$coord" --bind "$ep" --curve-secret "$WORK/fifo" --authorized-agents "$WORK/auth" "$WORK/plan.json"
refused "device --curve-secret" 2 "coordinator: /dev/zero: the secret key is a device, not a regular file" \
	"$coord" --bind "$ep" --curve-secret /dev/zero --authorized-agents "$WORK/auth" "$WORK/plan.json"
refused "FIFO --stats-key" 2 "coordinator: $WORK/fifo: the public key is a FIFO, not a regular file" \
	"$coord" --bind "$ep" --curve-secret "$K" --authorized-agents "$WORK/auth" --stats-key "$WORK/fifo" "$WORK/plan.json"
refused "directory --stats-key" 2 "coordinator: $WORK/k: the public key is a directory, not a regular file" \
	"$coord" --bind "$ep" --curve-secret "$K" --authorized-agents "$WORK/auth" --stats-key "$WORK/k" "$WORK/plan.json"
refused "FIFO in --authorized-agents" 2 "$WORK/fifo-auth/z.pub: the public key is a FIFO, not a regular file" \
	"$coord" --bind "$ep" --curve-secret "$K" --authorized-agents "$WORK/fifo-auth" "$WORK/plan.json"
refused "agent FIFO --curve-secret" 2 "agent: $WORK/fifo: the secret key is a FIFO, not a regular file" \
	"$agent" --coordinator tcp://127.0.0.1:1 --curve-secret "$WORK/fifo" --coordinator-key "$P"
refused "agent FIFO --coordinator-key" 2 "agent: $WORK/fifo: the public key is a FIFO, not a regular file" \
	"$agent" --coordinator tcp://127.0.0.1:1 --curve-secret "$K" --coordinator-key "$WORK/fifo"
# The server reads its keys after it starts listening; what matters here: no hang, a clear refusal.
refused "server FIFO --curve-secret" fail "$WORK/fifo: the secret key is a FIFO, not a regular file" \
	"$server" --listen 127.0.0.1:0 --model epoll --stats 'tcp://127.0.0.1:*' --curve-secret "$WORK/fifo" \
	--authorized-keys "$WORK/auth"
refused "server FIFO in --authorized-keys" fail "$WORK/fifo-auth/z.pub: the public key is a FIFO, not a regular file" \
	"$server" --listen 127.0.0.1:0 --model epoll --stats 'tcp://127.0.0.1:*' --curve-secret "$K" \
	--authorized-keys "$WORK/fifo-auth"

# A symlink to a regular key file is a key: the run gets past the keys (nobody joins: exit 3).
ln -s "$K" "$WORK/link.key"
ln -s "$P" "$WORK/auth/linked.pub"
timeout 20 "$coord" --quiet --bind "$ep" --curve-secret "$WORK/link.key" --authorized-agents "$WORK/auth" \
	--report "$WORK/r.json" "$WORK/plan.json" >"$WORK/out" 2>&1
expect "symlinked keys: exit" "$?" 3
grep -q "coordinator: 2 authorized keys in $WORK/auth" "$WORK/out" || fail "symlinked keys: $(cat "$WORK/out")"
expect "symlinked keys: status" "$(jq -r .status "$WORK/r.json")" aborted
exit 0
