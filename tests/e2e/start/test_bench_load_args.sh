#!/bin/bash
# e2e.start.bench_load_args: bench/load's bad arguments and environment values.
# Each ends with one line "bench/load: ..." on stderr, nothing on stdout and exit 2,
# before any run starts (so no build is needed and this takes well under 5 s);
# --help prints the whole docstring and exits 0.
LOAD=$1
. "$(dirname "$0")/../../lib/assert.sh"
set -u
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export LOAD_OUT=$WORK/out

# bad LABEL GREP ENV... -- ARGS...: exit 2, one stderr line matching GREP, empty stdout.
bad() {
	local label=$1 want=$2 vars=()
	shift 2
	while [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	env "${vars[@]}" /usr/bin/python3 "$LOAD" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
	expect "$label: exit" $? 2
	expect "$label: stderr lines" "$(wc -l <"$WORK/err.txt")" 1
	grep -q "^bench/load: $want" "$WORK/err.txt" || fail "$label: stderr $(cat "$WORK/err.txt")"
	expect "$label: stdout bytes" "$(wc -c <"$WORK/out.txt")" 0
}

bad "LOAD_DURATION=abc" "LOAD_DURATION: expected a number of seconds" LOAD_DURATION=abc -- x 100 1000 1
bad "LOAD_DURATION=0" "LOAD_DURATION: expected a number of seconds" LOAD_DURATION=0 -- x 100 1000 1
bad "LOAD_PAYLOAD=0" "LOAD_PAYLOAD: expected a whole number of bytes from 1 to 1048576" \
	LOAD_PAYLOAD=0 -- x 100 1000 1
bad "LOAD_PER_PROC=0" "LOAD_PER_PROC: expected a whole number" LOAD_PER_PROC=0 -- x 100 1000 1
bad "RATES 1000,,2000" "RATES: an empty item" -- x 100 1000,,2000 1
bad "LOAD_MODELS empty" "LOAD_MODELS is empty: nothing to run" LOAD_MODELS= -- x 100 1000 1
bad "RATES - and no churn" ".*nothing to run" LOAD_CHURN= -- x 100 - 1
bad "5 arguments" "expected at most 4 arguments" -- a b c d e
[ ! -e "$LOAD_OUT" ] || fail "a bad input made $LOAD_OUT"

/usr/bin/python3 "$LOAD" --help >"$WORK/help.txt" 2>"$WORK/err.txt"
expect "--help: exit" $? 0
expect "--help: stderr bytes" "$(wc -c <"$WORK/err.txt")" 0
for v in LOAD_DURATION LOAD_PAYLOAD LOAD_MODELS LOAD_CHURN LOAD_CHURN_DURATION LOAD_OUT \
	LOAD_PER_PROC LOAD_MD LOAD_SUMMARY_ONLY accepted/attempted; do
	grep -q "$v" "$WORK/help.txt" || fail "--help does not mention $v"
done
echo "ok: --help names every environment variable"
