#!/bin/bash
# e2e: server --watch PID / --watch-port PORT measures another server's process
# (here a threaded Python echo server, echo_server.py, and connscale's own
# pre-forked server) and answers stats_req for it, model "external".
#
# usage: test_watch.sh SERVER AGENT STATS_DUMP COORDINATOR CASE SOURCE_IP [PTHREAD_EXIT]
#   count    500 agent connections: conns_current exactly 500 (not the agent's
#            own ends), the same as `ss` counts, threads >= 500, RSS grew;
#            --watch-port finds the same process; back to 0 with conns_max 500;
#            SIGTERM: summary, exit 0
#   prefork  --watch-port on `server --processes 2`: supervisor and workers
#            summed, the same count as the server's own stats
#   dead     kill -9 of the watched process: said within 2 s, exit 1, no answer
#   usage    bad inputs: exact exit codes and messages
#   plan     a coordinator plan that names the watcher's stats endpoint measures
#            the Python server (pass, its counts in the report); the same run with
#            the Python server killed in the hold is degraded, the server "stopped
#            answering"
#   capacity the Python server under `prlimit --nofile=300:300`: capacity 300 less the
#            descriptors it holds besides connections, the sentence names its open-files
#            limit 300; the same with 100 connections held
#   pthread_exit  PTHREAD_EXIT (watch_pthread_exit.c): a server whose main thread
#            called pthread_exit() (state Z) while another holds 200 connections:
#            watched by pid and by port, counted (as `ss` counts), alive for 2 s
#            of samples; killed: said within 2 s, exit 1
#   exitmid  a process holding 1,000 connections SIGKILLed under back-to-back
#            stats requests, 6 times (watch_exitmid.py): no reply ever carries part
#            of its teardown (connections with fds or threads 0, or any count
#            short); the watcher says it exited and ends, exit 1, within 2 s
. "$(dirname "$0")/../agent/lib.sh"
server=$1 agent=$2 stats_dump=$3 coord=$4 case=$5 source=$6 pthread_exit=${7:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/ready.sh"

# start_echo [WRAPPER...]: the Python echo server on a free port (run through WRAPPER,
# which must exec it: prlimit); sets ECHO_PORT and echo_PID.
start_echo() {
	local i
	"$@" /usr/bin/python3 "$here/echo_server.py" --port 0 >"$WORK/echo.port" 2>"$WORK/echo.err" &
	echo_PID=$!
	LPIDS="$LPIDS $echo_PID"
	for i in $(seq 100); do
		[ -s "$WORK/echo.port" ] && break
		sleep 0.05
	done
	ECHO_PORT=$(head -1 "$WORK/echo.port")
	[ -n "$ECHO_PORT" ] || fail "echo server did not start: $(cat "$WORK/echo.err")"
}

# start_watch NAME ARGS...: a watcher with its stats on a free loopback port, until its
# ready line (tests/e2e/lib/ready.sh); sets NAME_PID and STATS ($WORK/NAME.ready, .out, .err).
start_watch() {
	local name=$1
	shift
	# A watcher reads the host's whole TCP table at start (both ends of every
	# connection of every test on this host): on a busy shared host, seconds.
	READY_WAIT_S=30 ready_start_server "$WORK/$name" "$server" "$@" --stats 'tcp://127.0.0.1:*'
	eval "${name}_PID=$SERVER_PID"
	LPIDS="$LPIDS $SERVER_PID"
	[ -n "$STATS" ] || fail "$name did not start: $(cat "$WORK/$name.ready" "$WORK/$name.err")"
}

# sample NAME [ENDPOINT]: one server_stats, validated by stats_dump, into $WORK/NAME.json.
sample() {
	stats_sample "$1" "${2:-$STATS}" 20000
}

# field NAME KEY: one field of a sample (jq path).
field() {
	stats_field "$@"
}

# wait_conns NAME N [ENDPOINT]: samples until conns_current is N (30 s at most).
wait_conns() {
	local i
	for i in $(seq 150); do
		sample "$1" "${3:-$STATS}"
		[ "$(field "$1" conns_current)" = "$2" ] && return 0
		sleep 0.2
	done
	fail "$1: conns_current $(field "$1" conns_current), expected $2"
}

# ss_established PORT: the established sockets whose local end is 127.0.0.1:PORT (where
# every server here listens), as ss counts them (-H: no header line): the reference the
# watcher's count must match. The port alone is not enough: an agent's connection from
# another 127.0.0.x may get the same number as its own source port (a CI run counted 501).
ss_established() {
	ss -tnH state established "( src 127.0.0.1:$1 )" | wc -l
}

# gone PID: true once PID has exited (a zombie counts: it runs no more).
gone() {
	[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

case_count() {
	local n=500 agent_pid i
	start_echo
	start_watch w --watch "$echo_PID"
	expect "ready: model" "$(jq -r .model "$WORK/w.ready")" external
	expect "ready: watched" "$(jq -c .watched "$WORK/w.ready")" "[$echo_PID]"
	expect "ready: port" "$(jq -r .port "$WORK/w.ready")" "$ECHO_PORT"
	expect "ready: pid" "$(jq -r .pid "$WORK/w.ready")" "$w_PID"
	expect "ready: process" "$(jq -r .process "$WORK/w.ready")" python3
	sample s0
	expect "idle: conns_current" "$(field s0 conns_current)" 0
	expect "idle: model" "$(field s0 model)" external
	expect "idle: process" "$(field s0 process)" python3
	expect "idle: processes" "$(field s0 processes)" 1
	# The documented rules: no accept count, no refusals, no capacity from outside.
	expect "idle: conns_total" "$(field s0 conns_total)" 0
	expect "idle: refused" "$(jq -c '[.refused[]] | add' "$WORK/s0.json")" 0
	# Its capacity is its own open-files limit less the descriptors it holds (case capacity).
	local nofile
	nofile=$(awk '/^Max open files/ {print $4}' "/proc/$echo_PID/limits")
	expect "idle: capacity" "$(field s0 capacity)" "$((nofile - $(field s0 fds)))"
	expect "idle: page_frag_kb (no thread gained)" "$(field s0 page_frag_kb)" 0

	"$agent" --target "127.0.0.1:$ECHO_PORT" -n "$n" --hold 120 --source-ip "$source" \
		>"$WORK/agent.out" 2>"$WORK/agent.err" &
	agent_pid=$!
	LPIDS="$LPIDS $agent_pid"
	wait_conns held "$n"
	# Both ends of every connection are in this host's TCP table: only the echo
	# server's (its own inodes, its listening port) count, and the count holds still.
	sleep 0.5
	sample held
	expect "held: conns_current" "$(field held conns_current)" "$n"
	expect "held: conns_max" "$(field held conns_max)" "$n"
	expect "held: ss count" "$(ss_established "$ECHO_PORT")" "$(field held conns_current)"
	[ "$(field held threads)" -ge "$n" ] || fail "held: threads $(field held threads) < $n"
	[ "$(field held fds)" -ge "$n" ] || fail "held: fds $(field held fds) < $n"
	[ "$(field held rss_kb)" -gt "$(field s0 rss_kb)" ] ||
		fail "held: rss_kb $(field held rss_kb) not above idle $(field s0 rss_kb)"
	jq -e '.cpu_user_s + .cpu_sys_s > 0 and .ctxsw_voluntary > 0 and .user_kb_per_conn > 0' \
		"$WORK/held.json" >/dev/null || fail "held: cpu/ctxsw/per-conn: $(cat "$WORK/held.json")"
	# A thread per connection: each thread it gained counts 32 KiB (pages of 4 KiB).
	expect "held: page_frag_kb" "$(field held page_frag_kb)" \
		$((($(field held threads) - $(field s0 threads)) * 32))
	echo "ok: held: threads $(field held threads), fds $(field held fds), rss $(field s0 rss_kb) -> $(field held rss_kb) kB"

	# --watch-port finds the same process, and counts the same.
	start_watch p --watch-port "$ECHO_PORT"
	expect "watch-port: watched" "$(jq -c .watched "$WORK/p.ready")" "[$echo_PID]"
	sample port
	expect "watch-port: conns_current" "$(field port conns_current)" "$n"
	expect "watch-port: ss count" "$(ss_established "$ECHO_PORT")" "$(field port conns_current)"

	kill -TERM "$agent_pid"
	wait "$agent_pid" 2>/dev/null
	wait_conns closed 0
	expect "closed: conns_max" "$(field closed conns_max)" "$n"
	for i in $(seq 100); do # the handler threads end just after their sockets
		[ "$(field closed threads)" = 1 ] && break
		sleep 0.1
		sample closed
	done
	expect "closed: threads" "$(field closed threads)" 1
	# port and closed are the same watcher's: its 500 threads exited in between, and
	# their switches and CPU stay counted.
	jq -en --slurpfile a "$WORK/port.json" --slurpfile b "$WORK/closed.json" \
		'$b[0].ctxsw_voluntary >= $a[0].ctxsw_voluntary and
		 $b[0].ctxsw_involuntary >= $a[0].ctxsw_involuntary and
		 $b[0].cpu_user_s + $b[0].cpu_sys_s >= $a[0].cpu_user_s + $a[0].cpu_sys_s' >/dev/null ||
		fail "closed: figures went down: $(jq -c '[.ctxsw_voluntary, .ctxsw_involuntary, .cpu_user_s, .cpu_sys_s]' "$WORK/port.json" "$WORK/closed.json")"
	echo "ok: closed: switches and CPU kept: $(jq -c '[.ctxsw_voluntary, .ctxsw_involuntary, .cpu_user_s + .cpu_sys_s]' "$WORK/port.json" "$WORK/closed.json" | tr '\n' ' ')"
	for w in w p; do
		stop_listener "$w"
		grep -q "^server: summary (external: python3, 1 process)$" "$WORK/$w.out" ||
			fail "$w: no summary: $(cat "$WORK/$w.out")"
	done
}

case_prefork() {
	local n=200 agent_pid own
	start_stats_server "$server" --model epoll --processes 2
	own=$STATS
	start_watch w --watch-port "$PORT"
	# The supervisor holds every listener, each worker its own: three processes.
	expect "prefork: processes" "$(jq -r .processes "$WORK/w.ready")" 3
	expect "prefork: process" "$(jq -r .process "$WORK/w.ready")" server
	"$agent" --target "127.0.0.1:$PORT" -n "$n" --hold 120 --source-ip "$source" \
		>"$WORK/agent.out" 2>"$WORK/agent.err" &
	agent_pid=$!
	LPIDS="$LPIDS $agent_pid"
	wait_conns own "$n" "$own"
	wait_conns held "$n"
	sample own "$own"
	expect "prefork: the server's own count" "$(field own conns_current)" "$n"
	expect "prefork: watched conns_current" "$(field held conns_current)" "$n"
	# The server's own figures leave its supervisor (and ZeroMQ's threads) out; ours have them.
	[ "$(field held threads)" -gt "$(field own threads)" ] ||
		fail "prefork: threads $(field held threads), the workers alone $(field own threads)"
	kill -TERM "$agent_pid"
	wait "$agent_pid" 2>/dev/null
	stop_listener w
	stop_listener server
}

case_dead() {
	local i t0 rc
	start_echo
	start_watch w --watch "$echo_PID"
	sample s0
	kill -KILL "$echo_PID"
	t0=$(date +%s%N)
	for i in $(seq 200); do
		gone "$w_PID" && break
		sleep 0.01
	done
	elapsed=$((($(date +%s%N) - t0) / 1000000))
	gone "$w_PID" || fail "the watcher still runs 2 s after its process died"
	[ "$elapsed" -le 2000 ] || fail "the watcher took $elapsed ms to end"
	wait "$w_PID"
	rc=$?
	expect "dead: exit" "$rc" 1
	grep -qx "server: watched process $echo_PID (python3) exited.*: its numbers are not live any more; the watch ends (exit 1)" \
		"$WORK/w.err" || fail "dead: stderr: $(cat "$WORK/w.err")"
	# A stats_req now gets no numbers at all, stale or otherwise.
	"$stats_dump" "$STATS" 1000 >"$WORK/after.json" 2>/dev/null
	expect "dead: stats after" "$?/$(wc -c <"$WORK/after.json")" "1/0"
	echo "ok: dead: said and ended in $elapsed ms"
}

# usage_is NAME EXIT MESSAGE ARGS...: server ARGS exits EXIT saying MESSAGE (a whole line).
usage_is() {
	local name=$1 want=$2 msg=$3 rc
	shift 3
	"$server" "$@" >"$WORK/u.out" 2>"$WORK/u.err"
	rc=$?
	expect "$name: exit" "$rc" "$want"
	grep -qxF -- "$msg" "$WORK/u.err" || fail "$name: stderr lacks '$msg': $(cat "$WORK/u.err")"
}

case_usage() {
	local st='tcp://127.0.0.1:*' free sleeper
	[ -e /proc/999999 ] && fail "pid 999999 exists on this host: pick another"
	usage_is "no such pid" 1 "server: --watch 999999: no such process (pid 999999)" \
		--watch 999999 --stats "$st"
	free=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	usage_is "nothing listening" 1 "server: --watch-port $free: no process listens on TCP port $free" \
		--watch-port "$free" --stats "$st"
	sleep 30 &
	sleeper=$!
	LPIDS="$LPIDS $sleeper"
	usage_is "no listener" 1 \
		"server: --watch $sleeper: process $sleeper (sleep) listens on no TCP port: it has no connections to count" \
		--watch "$sleeper" --stats "$st"
	usage_is "with --listen" 2 \
		"server: --watch cannot be combined with --listen: a watcher serves no connections of its own (it takes --stats, --curve-secret, --authorized-keys and --ready-fd only)" \
		--watch "$$" --listen 127.0.0.1:0 --stats "$st"
	usage_is "with --model" 2 \
		"server: --watch-port cannot be combined with --model: a watcher serves no connections of its own (it takes --stats, --curve-secret, --authorized-keys and --ready-fd only)" \
		--watch-port 80 --stats "$st" --model epoll
	usage_is "with --processes" 2 \
		"server: --watch cannot be combined with --processes: a watcher serves no connections of its own (it takes --stats, --curve-secret, --authorized-keys and --ready-fd only)" \
		--processes 2 --watch "$$" --stats "$st"
	usage_is "both" 2 "server: give --watch PID or --watch-port PORT, not both" \
		--watch "$$" --watch-port 80 --stats "$st"
	usage_is "no --stats" 2 "server: --watch needs --stats ENDPOINT: that is where it reports" \
		--watch "$$"
	usage_is "bad pid" 2 "server: --watch: expected an integer in 1..2147483647, got 'abc'" \
		--watch abc --stats "$st"
	usage_is "bad port" 2 "server: --watch-port: expected an integer in 1..65535, got '70000'" \
		--watch-port 70000 --stats "$st"
	# A thread's id answers in /proc too: it is not a process to watch.
	local tpy=$WORK/thread.py tid
	printf '%s\n' 'import threading, time' \
		'threading.Thread(target=lambda: (print(threading.get_native_id(), flush=True), time.sleep(30)), daemon=True).start()' \
		'time.sleep(30)' >"$tpy"
	/usr/bin/python3 "$tpy" >"$WORK/tid.out" &
	local tproc=$!
	LPIDS="$LPIDS $tproc"
	for _ in $(seq 50); do [ -s "$WORK/tid.out" ] && break; sleep 0.1; done
	tid=$(head -1 "$WORK/tid.out")
	usage_is "a thread" 1 "server: --watch $tid: $tid is a thread of process $tproc (python3); watch $tproc" \
		--watch "$tid" --stats "$st"
	kill "$tproc"
	# A reniced process (negative nice and priority in /proc/PID/stat) is still alive.
	/usr/bin/python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$WORK/nice.out" &
	local nproc=$!
	LPIDS="$LPIDS $nproc"
	for _ in $(seq 50); do [ -s "$WORK/nice.out" ] && break; sleep 0.1; done
	renice -n -5 -p "$nproc" >/dev/null
	timeout 5 "$server" --watch "$nproc" --stats "$st" >"$WORK/nice.w.out" 2>"$WORK/nice.w.err"
	expect "reniced: the watcher ran until stopped (timeout)" "$?" 124
	grep -q "exited\|cannot read" "$WORK/nice.w.err" && fail "reniced: $(cat "$WORK/nice.w.err")"
	kill "$nproc"
}

# plan NAME CONNECTIONS HOLD_S: a plan against the echo server, sampled through $STATS.
plan() {
	cat <<PLAN
{"name": "$1", "target": {"host": "127.0.0.1", "port": $ECHO_PORT},
 "agents": {"count": 1, "join_timeout_s": 15}, "connections": $2,
 "echo": {"rounds": 2}, "hold_s": $3,
 "server": {"stats": "$STATS", "interval_ms": 200}}
PLAN
}

case_plan() {
	local n=300 r=$WORK/pass-r.json cpid i code
	start_echo
	start_watch w --watch "$echo_PID"
	"$agent" --coordinator "ipc://$WORK/c.ipc" --name a --source-ip "$source" \
		>"$WORK/agent.out" 2>&1 &
	LPIDS="$LPIDS $!"
	plan pass "$n" 1 >"$WORK/pass.json"
	"$coord" --bind "ipc://$WORK/c.ipc" --report "$r" "$WORK/pass.json" \
		>"$WORK/pass.out" 2>"$WORK/pass.err"
	code=$?
	expect "plan: exit" "$code" 0
	expect "plan: status" "$(jq -r .status "$r")" pass
	expect "plan: final" "$(jq -c '.server.final | [.model, .process, .processes, .conns_max]' "$r")" \
		"[\"external\",\"python3\",1,$n]"
	expect "plan: plateau" "$(jq -r '.steps[-1].server.conns_current' "$r")" "$n"
	expect "plan: held" "$(jq -r .totals.held "$r")" "$n"
	grep -q "^  server: python3 (external, watched), max concurrent $n, now " "$WORK/pass.out" ||
		fail "plan: summary: $(cat "$WORK/pass.out")"

	# The watched server dies in the hold: the watcher ends, the coordinator says so.
	r=$WORK/killed-r.json
	plan killed "$n" 6 >"$WORK/killed.json"
	"$coord" --bind "ipc://$WORK/c.ipc" --report "$r" "$WORK/killed.json" \
		>"$WORK/killed.out" 2>"$WORK/killed.err" &
	cpid=$!
	# In the hold (its progress line), not before: a server gone in the echo is a verdict on
	# the target (aborted), as an ASan build's slower run once showed.
	for i in $(seq 150); do
		grep -q '^\[ *[0-9.]*s\] hold ' "$WORK/killed.err" &&
			"$stats_dump" "$STATS" 5000 >"$WORK/k.json" 2>/dev/null &&
			[ "$(jq -r .conns_current "$WORK/k.json")" = "$n" ] && break
		sleep 0.2
	done
	grep -q '^\[ *[0-9.]*s\] hold ' "$WORK/killed.err" || fail "killed: the run never reached its hold"
	expect "killed: held before the kill" "$(jq -r .conns_current "$WORK/k.json")" "$n"
	kill -KILL "$echo_PID"
	wait "$cpid"
	code=$?
	expect "killed: exit" "$code" 3
	expect "killed: status" "$(jq -r .status "$r")" degraded
	expect "killed: final" "$(jq -r .server.final "$r")" null
	expect "killed: error" "$(jq -r '.server.error | test("^the server stopped answering at t=")' "$r")" true
	wait "$w_PID"
	expect "killed: watcher exit" "$?" 1
}

case_capacity() {
	local n=100 fds
	start_echo prlimit --nofile=300:300
	expect "capacity: the limit it runs under" \
		"$(awk '/^Max open files/ {print $4 "/" $5}' "/proc/$echo_PID/limits")" 300/300
	start_watch w --watch "$echo_PID"
	sample s0
	fds=$(field s0 fds)
	[ "$fds" -gt 0 ] && [ "$fds" -lt 300 ] || fail "capacity: fds $fds"
	expect "capacity: idle" "$(field s0 capacity)" "$((300 - fds))"
	field s0 capacity_limit | grep -qx "capacity $((300 - fds)) connections: open-files limit 300 per process — raise it (ulimit -n, LimitNOFILE=; hard limit 300, fs.nr_open .*)" ||
		fail "capacity: idle sentence: $(field s0 capacity_limit)"
	# Connections use its descriptors, but they are capacity in use: the figure holds.
	"$agent" --target "127.0.0.1:$ECHO_PORT" -n "$n" --hold 120 --source-ip "$source" \
		>"$WORK/agent.out" 2>"$WORK/agent.err" &
	LPIDS="$LPIDS $!"
	wait_conns held "$n"
	expect "capacity: held fds" "$(field held fds)" "$((fds + n))"
	expect "capacity: held" "$(field held capacity)" "$((300 - fds))"
	field held capacity_limit | grep -q "^capacity $((300 - fds)) connections: open-files limit 300 per process" ||
		fail "capacity: held sentence: $(field held capacity_limit)"
	echo "ok: capacity: $(field held capacity_limit)"
	stop_listener w
}

case_pthread_exit() {
	local n=200 hpid hport i state t0 elapsed rc
	[ -x "$pthread_exit" ] || fail "usage: PTHREAD_EXIT (watch_pthread_exit) not given"
	"$pthread_exit" 120 >"$WORK/pe.port" 2>"$WORK/pe.err" &
	hpid=$!
	LPIDS="$LPIDS $hpid"
	for i in $(seq 100); do
		[ -s "$WORK/pe.port" ] && break
		sleep 0.05
	done
	hport=$(head -1 "$WORK/pe.port")
	[ -n "$hport" ] || fail "watch_pthread_exit did not start: $(cat "$WORK/pe.err")"
	# What makes it a case: the process's own state reads as a zombie's.
	for i in $(seq 50); do
		state=$(sed 's/.*) //' "/proc/$hpid/stat" | cut -d' ' -f1)
		[ "$state" = Z ] && break
		sleep 0.05
	done
	expect "pthread_exit: the main thread's state" "$state" Z
	start_watch w --watch "$hpid"
	expect "pthread_exit: watched" "$(jq -c .watched "$WORK/w.ready")" "[$hpid]"
	expect "pthread_exit: port" "$(jq -r .port "$WORK/w.ready")" "$hport"
	start_watch p --watch-port "$hport"
	expect "pthread_exit: watch-port finds it" "$(jq -c .watched "$WORK/p.ready")" "[$hpid]"
	"$agent" --target "127.0.0.1:$hport" -n "$n" --rounds 0 --hold 120 --source-ip "$source" \
		>"$WORK/agent.out" 2>"$WORK/agent.err" &
	LPIDS="$LPIDS $!"
	wait_conns held "$n"
	expect "pthread_exit: ss count" "$(ss_established "$hport")" "$n"
	# The zombie main thread and the one that holds the connections.
	expect "pthread_exit: threads" "$(field held threads)" 2
	[ "$(field held fds)" -ge "$n" ] || fail "pthread_exit: fds $(field held fds) < $n"
	[ "$(field held rss_kb)" -gt 0 ] || fail "pthread_exit: rss_kb $(field held rss_kb)"
	wait_conns port "$n" "$(jq -r .stats "$WORK/p.ready")"
	for i in $(seq 10); do # 2 s of samples: still alive, still counted
		sample again
		expect "pthread_exit: sample $i" "$(field again conns_current)" "$n"
		sleep 0.2
	done
	kill -0 "$w_PID" 2>/dev/null || fail "pthread_exit: the watcher ended: $(cat "$WORK/w.err")"
	echo "ok: pthread_exit: $n connections counted while the main thread is a zombie"
	kill -KILL "$hpid"
	t0=$(date +%s%N)
	for i in $(seq 200); do
		gone "$w_PID" && break
		sleep 0.01
	done
	elapsed=$((($(date +%s%N) - t0) / 1000000))
	gone "$w_PID" || fail "pthread_exit: the watcher still runs 2 s after its process died"
	wait "$w_PID"
	rc=$?
	expect "pthread_exit: dead: exit" "$rc" 1
	grep -q "^server: watched process $hpid (watch_pthread_e) exited" "$WORK/w.err" ||
		fail "pthread_exit: dead: stderr: $(cat "$WORK/w.err")"
	echo "ok: pthread_exit: killed, said in $elapsed ms"
}

case_exitmid() {
	WORK=$WORK /usr/bin/python3 "$here/watch_exitmid.py" "$server" "$source" 6 1000 ||
		fail "exitmid: $(cat "$WORK"/exitmid.*.err 2>/dev/null)"
}

"case_$case"
echo "PASS"
