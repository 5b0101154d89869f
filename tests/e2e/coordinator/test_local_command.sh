#!/bin/bash
# e2e: a local plan whose server is any command (local.server.command). The
# coordinator puts a free port in for {port}, starts examples/servers/py-echo,
# waits until it accepts, watches it with `server --watch-port PORT`, runs 400
# verified connections through 2 agents and stops everything. A command that
# exits at once, and one that never listens, fail the run (exit 3) with the
# sentence README gives, leaving nothing running. A pre-forked server (connscale's
# own, --processes 2, under sh) is measured whole, its workers' connections
# counted, and a child of the command that ignores SIGTERM is killed at the end.
. "$(dirname "$0")/lib.sh"
coord=$1 src=$2
py=/usr/bin/python3
[ -x $py ] || py=python3

# plan NAME SERVER_JSON: a local plan of 400 connections, one step, 2 agents.
plan() {
	cat >"$WORK/$1.json" <<PLAN
{
  "name": "$1",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 400,
  "echo": {"payload_bytes": 100, "rounds": 2},
  "hold_s": 1,
  "server": {"interval_ms": 200},
  "local": {"agents": 2, "server": $2}
}
PLAN
}

# no_process PATTERN WHAT: nothing whose command line matches PATTERN is left.
no_process() {
	local left
	left=$(pgrep -af -- "$1" | grep -v pgrep)
	[ -z "$left" ] || fail "$2 left running: $left"
}

# 1. py-echo, watched: the run passes and the server's numbers are the watcher's.
plan echo "{\"command\": [\"$py\", \"$src/examples/servers/py-echo/echo.py\", \"--port\", \"{port}\"]}"
"$coord" --report "$WORK/echo-r.json" "$WORK/echo.json" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc = 0 ] || cat "$WORK/out" >&2
expect "py-echo: exit" "$rc" 0
r=$WORK/echo-r.json
q() { jq -r "$1" "$r"; }
expect "py-echo: status" "$(q .status)" pass
expect "py-echo: held" "$(q .totals.held)" 400
expect "py-echo: failed" "$(q '[.totals.failed[]] | add')" 0
expect "py-echo: echo ok" "$(q .totals.echo_ok)" 400
expect "py-echo: echo errors" "$(q .totals.echo_errors)" 0
expect "py-echo: server conns at the plateau (watcher)" "$(q '.steps[0].server.conns_current')" 400
expect "py-echo: server model" "$(q .server.final.model)" external
expect "py-echo: server max" "$(q .server.final.conns_max)" 400
expect "py-echo: plan's command as written" "$(q '.plan.local.server.command[3]')" "{port}"
expect "py-echo: plan's ready timeout" "$(q '.plan.local.server.ready_timeout_s')" 10
# The port it was given is the one the agents were sent to, and its log says so.
port=$(sed -n 's/^echo.py: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/echo-r.server.log")
[ -n "$port" ] || fail "no listening line in $(cat "$WORK/echo-r.server.log")"
grep -q "assigned 200 connections to 127.0.0.1:$port" "$WORK/err" || fail "agents not sent to :$port"
pid=$(sed -n 's/^coordinator: local: started .* (pid \([0-9]*\)) for 127.0.0.1:'"$port"',.*/\1/p' "$WORK/err")
[ -n "$pid" ] || fail "no 'started ... (pid N)' line"
no_process "py-echo/echo.py --port $port" "py-echo"
no_process "--watch-port $port " "the watcher"
echo "ok: py-echo run through local.server.command: 400 held, watched, all stopped"

# 2. A command that exits at once: its status named, exit 3, no report, nothing left.
plan quit "{\"command\": [\"sh\", \"-c\", \"echo going away >&2; exit 3\", \"quit-$$-{port}\"]}"
t0=$(date +%s)
"$coord" --report "$WORK/quit-r.json" "$WORK/quit.json" >"$WORK/out" 2>"$WORK/err"
expect "exits at once: exit" "$?" 3
grep -qE "^coordinator: local.server.command exited with status 3 before accepting on 127\.0\.0\.1:[0-9]+ \(its output: $WORK/quit-r.server.log\)$" "$WORK/err" ||
	fail "exits at once: no such line"
grep -q "  | going away" "$WORK/err" || fail "exits at once: the log's last lines not shown"
[ ! -e "$WORK/quit-r.json" ] || fail "exits at once: a report was written"
[ $(($(date +%s) - t0)) -le 5 ] || fail "exits at once: took $(($(date +%s) - t0)) s"
no_process "quit-$$-" "the command"
grep -q "agent local-1" "$WORK/err" && fail "exits at once: agents were started"
echo "ok: a command that exits at once: exit 3, said with its status"

# 3. A command that never listens: the timeout said, exit 3, its process group stopped.
plan deaf "{\"command\": [\"sh\", \"-c\", \"sleep 30.$$; sleep 1\", \"deaf-$$-{port}\"], \"ready_timeout_s\": 1.5}"
t0=$(date +%s)
"$coord" --quiet --report "$WORK/deaf-r.json" "$WORK/deaf.json" >"$WORK/out" 2>"$WORK/err"
expect "never listens: exit" "$?" 3
took=$(($(date +%s) - t0))
grep -qE "^coordinator: local.server.command did not accept on 127\.0\.0\.1:[0-9]+ within 1\.5 s \(local.server.ready_timeout_s; its output: $WORK/deaf-r.server.log\)$" "$WORK/err" ||
	fail "never listens: no such line"
[ $took -le 8 ] || fail "never listens: took $took s"
[ ! -e "$WORK/deaf-r.json" ] || fail "never listens: a report was written"
no_process "deaf-$$-" "the command"
no_process "sleep 30.$$" "the command's child"
echo "ok: a command that never listens: exit 3 after ${took} s, its process group stopped"

# 4. Pre-forked, with a child that ignores SIGTERM: the watcher counts the workers'
#    connections (the port's, not one pid's), and at the end the whole group goes,
#    the stubborn child by SIGKILL after the 5 s.
server=$(dirname "$coord")/../server/server
plan fork "{\"command\": [\"sh\", \"-c\", \"(trap '' TERM; exec sleep 300.$$) & exec $server --listen 127.0.0.1:{port} --model epoll --processes 2\"]}"
"$coord" --quiet --report "$WORK/fork-r.json" "$WORK/fork.json" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc = 0 ] || cat "$WORK/err" >&2
expect "pre-forked: exit" "$rc" 0
r=$WORK/fork-r.json
expect "pre-forked: held" "$(q .totals.held)" 400
expect "pre-forked: server conns at the plateau (both workers)" "$(q '.steps[0].server.conns_current')" 400
jq -e '.server.final.processes >= 3' "$r" >/dev/null ||
	fail "pre-forked: the watcher saw $(q .server.final.processes) process(es), not the master and 2 workers"
no_process "sleep 300.$$" "the command's child that ignores SIGTERM"
no_process "$server --listen 127.0.0.1" "the pre-forked server"
echo "ok: a pre-forked server under sh: 400 counted across its workers, its whole group stopped"
