#!/bin/bash
# e2e: --report and --html are checked before the run: a directory that does
# not exist, a path under a regular file, a path that is a directory, or the
# same file for both, or an output that is the plan (or, for --render-html, one of
# its reports), is exit 2 with the option and the path named, before
# the coordinator binds or waits for a single agent (the plan's join timeout,
# 20 s, is never waited).
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

cat >"$WORK/plan.json" <<'PLAN'
{"name": "outputs", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 20}, "connections": 1}
PLAN
touch "$WORK/file"
mkdir "$WORK/dir"
ep="ipc://$WORK/c.ipc"

refused() { # refused NAME MESSAGE ARGS... : exit 2 at once, MESSAGE on stderr
	local name=$1 msg=$2 rc start=$SECONDS
	shift 2
	timeout 10 "$coord" --bind "$ep" "$@" "$WORK/plan.json" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	expect "$name: exit" "$rc" 2
	grep -qF -- "$msg" "$WORK/err" || fail "$name: message: $(cat "$WORK/err")"
	grep -q "waiting for agents" "$WORK/err" && fail "$name: the coordinator waited for agents"
	[ $((SECONDS - start)) -lt 5 ] || fail "$name: took $((SECONDS - start)) s"
	[ ! -e "$WORK/c.ipc" ] || fail "$name: the endpoint was bound"
}
refused "report in a missing directory" \
	"coordinator: --report $WORK/none/r.json: cannot write in $WORK/none: No such file or directory" \
	--report "$WORK/none/r.json"
refused "report under a regular file" \
	"coordinator: --report $WORK/file/r.json: cannot write in $WORK/file: Not a directory" \
	--report "$WORK/file/r.json"
refused "report is a directory" "coordinator: --report $WORK/dir: is a directory" --report "$WORK/dir"
refused "report ends in /" "coordinator: --report $WORK/new/: is a directory" --report "$WORK/new/"
refused "html in a missing directory" \
	"coordinator: --html $WORK/none/r.html: cannot write in $WORK/none: No such file or directory" \
	--report "$WORK/r.json" --html "$WORK/none/r.html"
refused "html is a directory" "coordinator: --html $WORK/dir: is a directory" \
	--report "$WORK/r.json" --html "$WORK/dir"
refused "html is the report" "coordinator: --html $WORK/r.json: is also the --report file" \
	--report "$WORK/r.json" --html "$WORK/r.json"
refused "html is the report, written another way" \
	"coordinator: --html $WORK/dir/../r.json: is also the --report file" \
	--report "$WORK/r.json" --html "$WORK/dir/../r.json"
refused "bind without a transport" \
	"coordinator: --bind 127.0.0.1:5799: expected a ZeroMQ endpoint with its transport" \
	--bind 127.0.0.1:5799
refused "report is the plan" \
	"coordinator: --report $WORK/dir/../plan.json: is the input $WORK/plan.json, which it would replace" \
	--report "$WORK/dir/../plan.json"
refused "html is the plan" \
	"coordinator: --html $WORK/plan.json: is the input $WORK/plan.json, which it would replace" \
	--report "$WORK/r.json" --html "$WORK/plan.json"
expect "the plan untouched" "$(jq -r .name "$WORK/plan.json")" outputs
refused "report is a device" "coordinator: --report /dev/null: exists and is not a regular file" \
	--report /dev/null
[ ! -e "$WORK/r.json" ] || fail "a report was written"

# --render-html: the page's path too, before the reports are read.
echo '{"plan": {}}' >"$WORK/r.json"
timeout 10 "$coord" --render-html "$WORK/none/p.html" "$WORK/r.json" >"$WORK/out" 2>"$WORK/err"
expect "render into a missing directory: exit" "$?" 2
grep -qF "coordinator: --render-html $WORK/none/p.html: cannot write in $WORK/none" "$WORK/err" ||
	fail "render message: $(cat "$WORK/err")"
timeout 10 "$coord" --render-html "$WORK/r.json" "$WORK/r.json" >"$WORK/out" 2>"$WORK/err"
expect "render over its report: exit" "$?" 2
grep -qF "coordinator: --render-html $WORK/r.json: is the input $WORK/r.json, which it would replace" "$WORK/err" ||
	fail "render over its report: $(cat "$WORK/err")"
expect "the report untouched" "$(cat "$WORK/r.json")" '{"plan": {}}'

# A good pair of paths still runs (nobody joins: exit 3, both files written).
sed 's/"join_timeout_s": 20/"join_timeout_s": 1/' "$WORK/plan.json" >"$WORK/plan1.json"
rm -f "$WORK/r.json"
timeout 20 "$coord" --quiet --bind "$ep" --report "$WORK/dir/r.json" --html "$WORK/dir/r.html" "$WORK/plan1.json" \
	>"$WORK/out" 2>"$WORK/err"
expect "good paths: exit" "$?" 3
[ -s "$WORK/dir/r.json" ] && [ -s "$WORK/dir/r.html" ] || fail "good paths: files missing: $(ls "$WORK/dir")"
echo "ok: good paths written"
exit 0
