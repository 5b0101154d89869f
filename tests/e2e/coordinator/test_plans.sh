#!/bin/bash
# e2e: every broken plan in tests/plans/bad exits 2 before anything starts,
# with a message that contains what its .expect file says (the example plans:
# test_examples.sh).

. "$(dirname "$0")/../agent/lib.sh"
coord=$1 plans=$2
n=0
for p in "$plans"/bad/*.json; do
	want=$(cat "${p%.json}.expect")
	"$coord" --quiet --report "$WORK/r.json" "$p" >/dev/null 2>"$WORK/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$(basename "$p"): exit $rc, expected 2"
	grep -qF -- "$want" "$WORK/err" || fail "$(basename "$p"): message '$(cat "$WORK/err")' lacks '$want'"
	[ ! -e "$WORK/r.json" ] || fail "$(basename "$p"): a report was written"
	n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n broken plans"
echo "ok: $n broken plans refused with exit 2"
"$coord" --quiet "$WORK/missing.json" 2>"$WORK/err"
expect "missing plan" "$?" 2
grep -q "missing.json" "$WORK/err" || fail "missing plan not named: $(cat "$WORK/err")"
"$coord" --no-such-flag 2>/dev/null
expect "bad flag" "$?" 2
