# Start a server and wait for its --ready-fd line, never for its banner (sourced, bash;
# needs jq). The one copy for the shell tests: tests/lab/* and tests/e2e/server/test_watch.sh
# source it (bench/* are Python and read the same line with libbench.py).

# ready_start_server PREFIX CMD...: runs CMD in the background with `--ready-fd 3`
# appended: descriptor 3 on PREFIX.ready, stdout on PREFIX.out, stderr on PREFIX.err.
# CMD is the server's command line, or a wrapper that execs it (`lab exec server ...`).
# Waits READY_WAIT_S seconds (default 10) at most for the ready line and sets PORT,
# STATS (empty without --stats) and READY_PID from it; SERVER_PID is the background
# job, set in every case so that the caller can stop it. A server that exits, or is not
# ready in time, returns 1 after saying so on stderr with the server's stderr.
# shellcheck disable=SC2034 # PORT, STATS, READY_PID: set for the caller
ready_start_server() {
	local prefix=$1 wait_s=${READY_WAIT_S:-10} deadline line="" why
	shift
	PORT="" STATS="" READY_PID="" SERVER_PID=""
	: >"$prefix.ready" || return 1
	"$@" --ready-fd 3 >"$prefix.out" 2>"$prefix.err" 3>"$prefix.ready" &
	SERVER_PID=$!
	# The server writes the whole line, then closes 3: a line jq cannot parse (or an
	# empty file, where jq prints nothing) is not written yet. The look after a dead
	# server catches a line written just before it died.
	deadline=$((SECONDS + wait_s + 1)) # whole seconds: wait_s to wait_s + 1
	while ((SECONDS < deadline)); do
		line=$(jq -c 'select(.port > 0)' "$prefix.ready" 2>/dev/null) || line=""
		[ -n "$line" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$line" ] || line=$(jq -c 'select(.port > 0)' "$prefix.ready" 2>/dev/null) || line=""
	if [ -z "$line" ]; then
		if kill -0 "$SERVER_PID" 2>/dev/null; then
			why="was not ready after $wait_s s"
		else
			wait "$SERVER_PID"
			why="exited (status $?) before it was ready"
		fi
		echo "the server $why ($*); its stderr, $prefix.err:" >&2
		sed 's/^/  /' "$prefix.err" >&2
		return 1
	fi
	PORT=$(jq -r .port <<<"$line")
	STATS=$(jq -r '.stats // empty' <<<"$line")
	READY_PID=$(jq -r .pid <<<"$line")
}
