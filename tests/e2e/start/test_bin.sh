#!/bin/bash
# e2e.start.bin: the binaries by name. BUILD/bin holds server, agent and
# coordinator (the README's first commands put it on PATH); a local plan run by
# bare name from there finds its server and agents; `cmake --install` (what
# `make install PREFIX=...` runs) puts the three in PREFIX/bin, and a local plan
# runs from there too.
BUILD=$1
. "$(dirname "$0")/../agent/lib.sh"

for b in server agent coordinator; do
	[ -x "$BUILD/bin/$b" ] || fail "$BUILD/bin/$b is missing"
	[ "$BUILD/bin/$b" -ef "$BUILD/$b/$b" ] || fail "$BUILD/bin/$b is not $BUILD/$b/$b"
	PATH=$BUILD/bin:$PATH "$b" --help >"$WORK/help" 2>&1
	expect "$b --help by name: exit" $? 0
	head -1 "$WORK/help" | grep -q "^usage: $b " || fail "$b --help: $(head -1 "$WORK/help")"
done

cat >"$WORK/plan.json" <<PLAN
{
  "name": "by-name",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 20,
  "steps": [20],
  "local": {"agents": 2, "server": {"model": "epoll"}}
}
PLAN
# run_plan LABEL DIR: the local plan with DIR/coordinator found on PATH, from $WORK.
run_plan() {
	(cd "$WORK" && env -u CONNSCALE_BIN PATH="$2:$PATH" coordinator --quiet \
		--report "$WORK/$1.json" plan.json >"$WORK/$1.out" 2>"$WORK/$1.err")
	expect "$1: exit" $? 0
	expect "$1: held" "$(jq -r .totals.held "$WORK/$1.json")" 20
}
run_plan "build bin" "$BUILD/bin"

cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.out" 2>&1 ||
	fail "cmake --install: $(cat "$WORK/install.out")"
for b in server agent coordinator; do
	[ -x "$WORK/prefix/bin/$b" ] || fail "no $b in PREFIX/bin"
done
run_plan "installed" "$WORK/prefix/bin"
echo PASS
