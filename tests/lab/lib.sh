# Shared start of the lab tests (sourced, bash): assert.sh, ready_start_server
# (tests/e2e/lib/ready.sh) and lab_begin N.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib/ready.sh"

# lab_begin N: not root, the lab's own refusal (exit 77 with its message); root,
# the lab lock (one lab test at a time, whatever ctest runs beside it) on fd 9
# and a fresh $WORK. $LAB is the lab tool.
lab_begin() {
	if [ "$(id -u)" != 0 ]; then
		"$LAB" up "$1"
		exit $?
	fi
	exec 9>/run/connscale-lab.lock
	flock -w 300 9 || fail "another lab run holds /run/connscale-lab.lock"
	lab_clear_stale "$LAB"
	WORK=$(mktemp -d)
}

# lab_trap: PIDS emptied, and on exit every process in $PIDS killed, the lab taken
# down, and $WORK removed after a pass (kept and named after a failure, or with KEEP=1).
lab_trap() {
	PIDS=""
	trap lab_cleanup EXIT
}
lab_cleanup() {
	local rc=$? p
	if [ $rc = 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "logs: $WORK" >&2; fi
	exec 2>/dev/null # not the shell's notes on the jobs killed here
	for p in $PIDS; do kill -KILL "$p"; done
	"$LAB" down >/dev/null
}

# lab_clear_stale LAB: with the lab lock held (fd 9), nobody is using a lab that is
# up: a test killed at its timeout left it (ctest runs the cleanup fixture only at
# the end of the whole run), so take it down rather than fail on "already up".
lab_clear_stale() {
	if "$1" status >/dev/null 2>&1; then
		echo "a lab was left up (by a killed test?): taking it down"
		"$1" down >/dev/null 2>&1 || fail "a lab was left up and 'lab down' failed"
	fi
}
