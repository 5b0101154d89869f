#!/bin/bash
# e2e.start.bin: the binaries by name. BUILD/bin holds server, agent and
# coordinator (the README's first commands put it on PATH); a local plan run by
# bare name from there finds its server and agents; `cmake --install` (what
# `make install PREFIX=...` runs) puts them in PREFIX/bin as connscale-server,
# connscale-agent and connscale-coordinator (links to PREFIX/lib/connscale),
# and a local plan run by that name finds its siblings too.
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
# run_plan LABEL DIR NAME: the local plan with DIR/NAME found on PATH, from $WORK.
run_plan() {
	(cd "$WORK" && env -u CONNSCALE_BIN PATH="$2:$PATH" "$3" --quiet \
		--report "$WORK/$1.json" plan.json >"$WORK/$1.out" 2>"$WORK/$1.err")
	expect "$1: exit" $? 0
	expect "$1: held" "$(jq -r .totals.held "$WORK/$1.json")" 20
}
run_plan "build bin" "$BUILD/bin" coordinator

cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.out" 2>&1 ||
	fail "cmake --install: $(cat "$WORK/install.out")"
for b in server agent coordinator; do
	[ -x "$WORK/prefix/bin/connscale-$b" ] || fail "no connscale-$b in PREFIX/bin"
	[ -e "$WORK/prefix/bin/$b" ] && fail "PREFIX/bin/$b: the short names stay in the build tree"
	"$WORK/prefix/bin/connscale-$b" --help >"$WORK/help" 2>&1
	expect "installed connscale-$b --help: exit" $? 0
done
run_plan "installed" "$WORK/prefix/bin" connscale-coordinator
echo PASS
