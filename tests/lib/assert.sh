# Assertions shared by the shell tests (sourced, bash): one message, one exit.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect NAME GOT WANT
expect() {
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
	echo "ok: $1 = $3"
}
