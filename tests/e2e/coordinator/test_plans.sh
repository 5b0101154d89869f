#!/bin/bash
# e2e: every broken plan in tests/plans/bad is refused before anything starts:
# exit 2 within 10 s (a run that started would wait for its agents), nothing on
# stdout, no report, HTML page or other file written, and on stderr one line
# that names the plan file and contains what its .expect file says (each .json
# has a one-line, non-empty .expect; each .expect a .json). A missing plan and
# an unknown flag exit 2 naming what was wrong. (The example plans:
# test_examples.sh.)

. "$(dirname "$0")/../agent/lib.sh"
coord=$1
[[ $coord == /* ]] || coord=$PWD/$coord
plans=$(cd "$2" && pwd) || fail "no plan directory $2"
# Every run starts in this empty directory, so a file it writes shows up here.
mkdir "$WORK/run" && cd "$WORK/run" || fail "cannot make $WORK/run"
shopt -s nullglob dotglob

# refused NAME CMD...: CMD exits 2 within 10 s, with nothing on stdout and no file
# written; sets ERR to its stderr lines.
refused() {
	local name=$1 rc written
	shift
	timeout 10 "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	mapfile -t ERR <"$WORK/err"
	[ $rc -eq 2 ] || fail "$name: exit $rc, expected 2: ${ERR[*]}"
	[ ! -s "$WORK/out" ] || fail "$name: wrote to stdout: $(cat "$WORK/out")"
	written=(*)
	[ ${#written[@]} -eq 0 ] || fail "$name: wrote files: ${written[*]}"
}

n=0
for p in "$plans"/bad/*.json; do
	name=${p##*/}
	e=${p%.json}.expect
	[ -f "$e" ] || fail "$name: no .expect file"
	mapfile -t want <"$e"
	[ ${#want[@]} -eq 1 ] && [ -n "${want[0]// /}" ] ||
		fail "$name: its .expect is not one non-blank line"
	refused "$name" "$coord" --quiet --report r.json --html r.html "$p"
	[ ${#ERR[@]} -eq 1 ] || fail "$name: expected one line on stderr, got: $(cat "$WORK/err")"
	[[ ${ERR[0]} == *"$name"* ]] || fail "$name: message '${ERR[0]}' does not name it"
	[[ ${ERR[0]} == *"${want[0]}"* ]] || fail "$name: message '${ERR[0]}' lacks '${want[0]}'"
	n=$((n + 1))
done
for e in "$plans"/bad/*.expect; do
	[ -e "${e%.expect}.json" ] || fail "${e##*/} has no plan"
done
[ $n -ge 10 ] || fail "only $n broken plans"
echo "ok: $n broken plans refused with exit 2, one line naming the plan, nothing written"

refused "missing plan" "$coord" --quiet --report r.json "$WORK/missing.json"
[[ ${ERR[*]} == *missing.json* ]] || fail "missing plan not named: ${ERR[*]}"
echo "ok: a missing plan exits 2 naming it"
refused "bad flag" "$coord" --no-such-flag "$plans/bad/empty.json"
[[ ${ERR[*]} == *--no-such-flag* ]] || fail "bad flag not named: ${ERR[*]}"
echo "ok: an unknown flag exits 2 naming it"
