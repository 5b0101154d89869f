# Shared start of the coordinator's e2e scripts (sourced, bash): the agent's lib
# (WORK, expect, start_stats_server, scaled, ...) and a fail() that also shows
# what the coordinator said ($WORK/err): these runs are timing-sensitive under load.
. "$(dirname "${BASH_SOURCE[0]}")/../agent/lib.sh"

fail() {
	echo "FAIL: $*" >&2
	echo "--- coordinator stderr:" >&2
	tail -n 40 "$WORK/err" >&2
	exit 1
}
