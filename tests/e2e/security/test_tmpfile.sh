#!/bin/bash
# e2e: the report's and the page's temporary file (PATH.tmp.PID) is created,
# never opened as found: a symlink planted at that name (the pid is known here:
# a shell plants it, then execs the coordinator) is not followed. The file it points to
# stays as it was, a dangling one creates nothing, and the output is still
# written safely as a regular file (or the run fails cleanly, writing nothing).
. "$(dirname "$0")/../agent/lib.sh"
coord=$1

echo '{"plan": {"name": "tmpfile"}, "status": "pass"}' >"$WORK/in.json"
mkdir "$WORK/out" "$WORK/elsewhere"
echo "victim" >"$WORK/elsewhere/victim"

# check NAME OUT RC: the victim intact, nothing created through the dangling link,
# OUT a regular file (exit 0) or absent (a failure), no temporary file of ours left.
check() {
	local name=$1 out=$2 rc=$3 f
	expect "$name: the symlink's target" "$(cat "$WORK/elsewhere/victim")" victim
	[ ! -e "$WORK/elsewhere/created" ] || fail "$name: a file was created through a dangling symlink"
	if [ "$rc" -eq 0 ]; then
		[ -f "$out" ] && [ ! -L "$out" ] || fail "$name: $out is not a regular file"
		[ -s "$out" ] || fail "$name: $out is empty"
		echo "ok: $name: written safely"
	else
		[ ! -e "$out" ] || fail "$name: failed (exit $rc) but wrote $out"
		echo "ok: $name: failed cleanly (exit $rc): $(cat "$WORK/err")"
	fi
	for f in "$out".tmp.*; do
		[ -L "$f" ] || [ ! -e "$f" ] || fail "$name: temporary file $f left behind"
	done
}

# planted OUT KIND CMD...: runs CMD (at most 20 s) from a shell that first plants
# OUT.tmp.PID, PID being its own and so CMD's: KIND "victim" points it at the
# victim (and a few more names, dangling), "dangling" at a file that does not exist.
planted() {
	local out=$1 kind=$2
	shift 2
	timeout 20 bash -c '
		out=$1 kind=$2 w=$3
		shift 3
		if [ "$kind" = victim ]; then
			ln -s "$w/elsewhere/victim" "$out.tmp.$$"
			for i in 1 2 3; do ln -s "$w/elsewhere/created" "$out.tmp.$$.$i"; done
		else
			ln -s "$w/elsewhere/created" "$out.tmp.$$"
		fi
		exec "$@"' planted "$out" "$kind" "$WORK" "$@"
}

out=$WORK/out/page.html
planted "$out" victim "$coord" --render-html "$out" "$WORK/in.json" >/dev/null 2>"$WORK/err"
check "--render-html" "$out" $?
grep -q '<!DOCTYPE html>' "$out" 2>/dev/null || [ ! -e "$out" ] || fail "page content"

# The dangling kind alone: fopen("w") would create the file it names.
out=$WORK/out/page2.html
planted "$out" dangling "$coord" --render-html "$out" "$WORK/in.json" >/dev/null 2>"$WORK/err"
check "--render-html, dangling symlink" "$out" $?

# The report of a real run (nobody joins: exit 3, the report still written).
cat >"$WORK/plan.json" <<'PLAN'
{"name": "tmpfile", "target": {"host": "127.0.0.1", "port": 9},
 "agents": {"count": 1, "join_timeout_s": 1}, "connections": 1}
PLAN
out=$WORK/out/r.json
planted "$out" victim "$coord" --quiet --bind "ipc://$WORK/c.ipc" --report "$out" "$WORK/plan.json" \
	>/dev/null 2>"$WORK/err"
rc=$?
[ $rc -eq 3 ] && [ -e "$out" ] && rc=0 # the run's own outcome; the report was written
check "--report" "$out" $rc
[ ! -e "$out" ] || expect "--report: content" "$(jq -r .plan.name "$out")" tmpfile
exit 0
