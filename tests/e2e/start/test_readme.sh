#!/bin/bash
# e2e.start.readme: the README says what the binaries do.
#  - each synopsis (## agent, ## coordinator, ## server) is the binary's --help
#    usage, line for line, and each --help ends with the exit codes;
#  - the key commands write keys outside the source tree (run as written, with
#    HOME in a scratch directory), and *.key is ignored by git;
#  - the demo's output block is what the demo prints now, numbers aside.
SRC=$1 BUILD=$2
. "$(dirname "$0")/../agent/lib.sh"
README=$SRC/README.md

# readme_block START: the first ``` block after the first line starting with START.
readme_block() {
	awk -v h="$1" '!on && index($0, h) == 1 { on = 1; next }
		on && /^```/ { if (inblock) exit; inblock = 1; next }
		inblock { print }' "$README"
}

# help_synopsis BIN: its --help up to the first blank line, "usage: " taken off.
help_synopsis() {
	"$BUILD/$1/$1" --help | awk 'NF == 0 { exit } { print substr($0, 8) }'
}

for b in agent coordinator server; do
	readme_block "## $b" >"$WORK/readme.$b"
	help_synopsis $b >"$WORK/help.$b"
	[ -s "$WORK/help.$b" ] || fail "$b --help printed no usage"
	diff -u "$WORK/help.$b" "$WORK/readme.$b" >"$WORK/diff.$b" ||
		fail "README's $b synopsis differs from $b --help:
$(cat "$WORK/diff.$b")"
	echo "ok: README ## $b synopsis = $b --help"
	"$BUILD/$b/$b" --help | grep -q '^Exit' || "$BUILD/$b/$b" --help | grep -q 'Exit 1' ||
		fail "$b --help does not give the exit codes"
	echo "ok: $b --help gives the exit codes"
done
# Every option the agent accepts is in its --help (the option table is the truth).
for opt in $(sed -n 's/^ *{"\([a-z-]*\)", [a-z_]*argument.*/\1/p' "$SRC/agent/options.c"); do
	"$BUILD/agent/agent" --help | grep -q -- "--$opt\b" || fail "agent --help lacks --$opt"
done
echo "ok: agent --help names every option"

# Keys: no --gen-keys example writes into the checkout.
grep -o -- '--gen-keys [^ `]*' "$README" | while read -r _ dir; do
	case $dir in
	DIR | /* | "~/"*) ;;
	*) fail "README: --gen-keys $dir writes keys into the source tree" ;;
	esac
done || exit 1
echo "ok: README's --gen-keys directories are outside the source tree"
touch "$WORK/stamp"
mkdir "$WORK/home"
readme_block "**Keys.**" | sed 's/ *#.*//; s/\[--name a1\]/--name a1/' >"$WORK/keys.sh"
expect "key commands in the README" "$(wc -l <"$WORK/keys.sh")" 3
while read -r bin args; do
	(cd "$SRC" && export HOME=$WORK/home && eval "\"$BUILD/$bin/$bin\" $args") >/dev/null ||
		fail "README: '$bin $args' failed"
done <"$WORK/keys.sh"
for k in coordinator a1 server; do
	[ -f "$WORK/home/connscale-keys/$k.key" ] || fail "no $k.key in ~/connscale-keys"
done
new=$(find "$SRC" -path "$SRC/build" -prune -o -newer "$WORK/stamp" -name '*.key' -print)
expect "keys written into the source tree" "$new" ""
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$SRC" check-ignore -q keys/a1.key || fail "*.key is not in .gitignore"
	echo "ok: keys/a1.key is ignored"
fi

# The demo: the plan make demo runs, its stdout against the README's block with
# every number a '#', and pass/fail, ok/FAIL as one word (a loaded machine may
# miss the p99 threshold; the block's shape is what is checked).
shape() {
	sed -E 's/[0-9][0-9.,]*/#/g; s/ +/ /g; s/ $//; s/: (pass|fail)$/: VERDICT/;
		s/^ (ok|FAIL) / VERDICT /; s/^ report: .*/ report: PATH/' "$@"
}
readme_block '`make demo` runs `coordinator examples/plans/local-demo.json`: the coordinator starts a' |
	shape >"$WORK/readme.demo.shape"
[ -s "$WORK/readme.demo.shape" ] || fail "no demo block in the README"
# A loaded machine may fail a connection or lose an agent (extra lines, exit 3):
# the shape is what is checked, so a second run settles it.
for attempt in 1 2; do
	"$BUILD/coordinator/coordinator" --report "$WORK/demo.json" \
		"$SRC/examples/plans/local-demo.json" >"$WORK/demo.out" 2>"$WORK/demo.err"
	rc=$?
	sed '1{/^$/d}' "$WORK/demo.out" | shape >"$WORK/demo.shape"
	if [ $rc -gt 1 ]; then
		echo "demo run $attempt exited $rc: $(tail -3 "$WORK/demo.err")"
	elif diff -u "$WORK/demo.shape" "$WORK/readme.demo.shape" >"$WORK/diff.demo"; then
		break
	else
		echo "demo run $attempt differs from the README:"
		cat "$WORK/diff.demo"
	fi
	[ $attempt = 2 ] && fail "README's demo output differs from the demo's (or the demo failed)"
done
echo "ok: README's demo block = what the demo prints ($(wc -l <"$WORK/demo.shape") lines)"
echo PASS
