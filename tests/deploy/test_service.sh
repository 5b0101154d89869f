#!/bin/bash
# deploy.service: connscale-service (the package's way to run the server and agent where
# systemd is not PID 1, used by the roles in the lab and in containers) starts, reports, limits,
# restarts and stops the server under an install root, and explains a failed start.
# usage: test_service.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=$1
tmp=$(mktemp -d /tmp/connscale-svc.XXXXXX)
root=$tmp/root
svc=$root/usr/lib/connscale/connscale-service
cleanup() {
	[ -x "$svc" ] && "$svc" --root "$root" stop server >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

deb=$(deploy_build_deb "$build" "$tmp/out")
mkdir -p "$root/etc/default"
dpkg-deb -x "$deb" "$root"
port=$(deploy_free_port)
cat >"$root/etc/default/connscale-server" <<EOT
CONNSCALE_SERVER_ARGS="--listen 127.0.0.1:$port --model threads --stats tcp://127.0.0.1:*"
CONNSCALE_LIMIT_NOFILE=4096
EOT

out=$("$svc" --root "$root" start server)
[[ $out == "started (pid "* ]] || fail "start said: $out"
pid=$(cat "$root/run/connscale/server.pid")
[ "$("$svc" --root "$root/" start server)" = "already running (pid $pid)" ] || fail "second start not idempotent"
[ "$("$svc" --root "$root" status server)" = "running (pid $pid)" ] || fail "status"
grep -E '^Max open files +4096 ' "/proc/$pid/limits" >/dev/null || fail "open-files limit not 4096: $(grep 'open files' "/proc/$pid/limits")"
# The unglobbed endpoint reached the server (tcp://127.0.0.1:* picks a port).
grep -q 'server: stats on tcp://127.0.0.1:' "$root/var/log/connscale/server.log" || fail "stats endpoint: $(cat "$root/var/log/connscale/server.log")"
# It echoes.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'hello\n' >&3
read -r -t 5 reply <&3 || fail "no echo from the server"
exec 3>&-
[ "$reply" = hello ] || fail "echo: $reply"
echo "ok: started (pid $pid), idempotent start, status, LimitNOFILE, echo on port $port"

# A new package extracted over the running one (deploy/ with connscale_root, dpkg -i): the
# running server's executable is now a deleted file, and it is still ours to stop.
exe=$(readlink -f "$root/usr/bin/connscale-server")
cp "$exe" "$exe.new"
mv "$exe.new" "$exe"
[[ "$(readlink "/proc/$pid/exe")" == *" (deleted)" ]] || fail "the replaced binary is not deleted: $(readlink "/proc/$pid/exe")"
[ "$("$svc" --root "$root" status server)" = "running (pid $pid)" ] || fail "status after the binary was replaced"
out=$("$svc" --root "$root" restart server)
pid2=$(cat "$root/run/connscale/server.pid")
[ "$pid2" != "$pid" ] && ! kill -0 "$pid" 2>/dev/null || fail "restart kept pid $pid ($out)"
[[ "$(readlink "/proc/$pid2/exe")" == "$exe" ]] || fail "restarted server runs $(readlink "/proc/$pid2/exe")"
[ "$("$svc" --root "$root" stop server)" = "stopped (pid $pid2)" ] || fail "stop"
set +e
"$svc" --root "$root" status server >/dev/null
rc=$?
set -e
[ $rc -eq 3 ] || fail "status of a stopped server exited $rc, want 3"
grep -q 'Max conc\|max conc\|resident\|rss' "$root/var/log/connscale/server.log" || fail "no summary in the log on stop"
echo "ok: restart after the binary was replaced (new pid $pid2), stop with the summary in the log, status 3 when stopped"

# A bad setting: start fails with the server's own words, and no stale pid file.
echo 'CONNSCALE_SERVER_ARGS="--model bogus"' >"$root/etc/default/connscale-server"
set +e
err=$("$svc" --root "$root" start server 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "start with bad args exited $rc: $err"
echo "$err" | grep -q 'exited at start' || fail "no explanation: $err"
echo "$err" | grep -qi 'model' || fail "server's error not shown: $err"
[ ! -e "$root/run/connscale/server.pid" ] || fail "stale pid file"
set +e
"$svc" start nothing >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown service exited $rc, want 2"
echo "PASS: connscale-service runs the server under an install root"
