#!/bin/bash
# deploy.systemd: the real install path, under systemd as PID 1. A Debian 12 container booted
# with systemd-nspawn (root file system from debootstrap, made once and cached: nspawn.sh)
# gets the .deb with dpkg -i, as an operator's host would:
#   - a new install loads the units and starts and enables nothing (postinst);
#   - set up as deploy/ does (settings in /etc/default, a CURVE key pair made by the installed
#     binary, the secret key handed over with LoadCredential=), `systemctl enable --now`
#     runs the server as a DynamicUser: is-active, its limits (LimitNOFILE, TasksMax), its
#     stats endpoint answering a CURVE client it authorizes (and no other), and 4,200
#     connections held: past the 1,024 fds of a default soft limit and past 4,096 threads;
#   - dpkg -i again (the binaries replaced) restarts it: a new main pid running the new file;
#   - dpkg --purge stops it and removes the units, their enablement links, the binaries and
#     the logs; the admin's /etc/default and /etc/connscale stay.
# Root only (exit 77 otherwise). The first run makes the root file system (minutes).
# usage: test_systemd.sh BUILD_DIR
set -euo pipefail
# A deadline of its own, below ctest's 1200 s: timeout's SIGTERM runs the cleanup below, which
# powers the container off (ctest's own kill would leave it running).
if [ -z "${CONNSCALE_SYSTEMD_DEADLINE:-}" ]; then
	CONNSCALE_SYSTEMD_DEADLINE=1100 exec timeout -k 30 1100 bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/nspawn.sh"
build=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: deploy.systemd needs root (systemd-nspawn)"; exit 77; }
for t in systemd-nspawn debootstrap nsenter /usr/bin/python3; do
	command -v $t >/dev/null || fail "$t not installed (scripts/deps test installs it)"
done
/usr/bin/python3 -c "import zmq" 2>/dev/null || fail "python3-zmq not installed (scripts/deps test)"

tmp=$(mktemp -d /var/tmp/connscale-systemd.XXXXXX)
cleanup() {
	nspawn_stop
	[ -n "${DEPLOY_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
# A timeout's SIGTERM still powers the container off.
trap 'exit 143' TERM INT

deb=$(deploy_build_deb "$build" "$tmp/out")
rootfs=$(nspawn_rootfs)
t0=$SECONDS
cp -a "$rootfs" "$tmp/root"
cp "$deb" "$tmp/root/root/connscale.deb"
root=$tmp/root
nspawn_boot "$root" "connscale-t$$" "$tmp/boot.log"
echo "ok: container booted with systemd as PID 1 ($((SECONDS - t0)) s): $(nspawn_run systemctl --version | head -n 1)"
[ "$(nspawn_run cat /proc/1/comm)" = systemd ] || fail "PID 1 in the container is not systemd"

# show UNIT PROPERTY: one property's value.
show() { nspawn_run systemctl show -P "$2" "$1"; }

# --- install -----------------------------------------------------------------------------------
nspawn_run dpkg -i /root/connscale.deb >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "dpkg -i"; }
for u in server agent; do
	expect "connscale-$u LoadState after install" "$(show connscale-$u.service LoadState)" loaded
	expect "connscale-$u UnitFileState after install" "$(show connscale-$u.service UnitFileState)" disabled
	expect "connscale-$u ActiveState after install" "$(show connscale-$u.service ActiveState)" inactive
done

# --- set up as deploy/roles/connscale_server does, and start -----------------------------------------------
port=$(deploy_free_port)
stats=$(deploy_free_port)
# The key directory 0755 as the role makes it (the DynamicUser reads the public keys there).
nspawn_run install -d -m 0755 /etc/connscale /etc/connscale/keys /etc/connscale/stats-clients
nspawn_run connscale-server --gen-keys /etc/connscale/keys --name server >/dev/null ||
	fail "connscale-server --gen-keys in the container"
for n in client stranger; do
	nspawn_run connscale-coordinator --gen-keys /root/client --name $n >/dev/null || fail "--gen-keys $n"
done
cp "$root/root/client/client.pub" "$root/etc/connscale/stats-clients/client.pub"
cat >"$root/etc/default/connscale-server" <<EOF
CONNSCALE_SERVER_ARGS="--listen 127.0.0.1:$port --model threads --stack-size 64k --stats tcp://127.0.0.1:$stats --curve-secret /run/credentials/connscale-server.service/server.key --authorized-keys /etc/connscale/stats-clients"
EOF
mkdir -p "$root/etc/systemd/system/connscale-server.service.d"
printf '[Service]\nLoadCredential=server.key:/etc/connscale/keys/server.key\n' \
	>"$root/etc/systemd/system/connscale-server.service.d/curve.conf"
nspawn_run systemctl enable --now connscale-server.service >"$tmp/enable.log" 2>&1 ||
	{ cat "$tmp/enable.log"; nspawn_run journalctl -u connscale-server --no-pager | tail -n 20; fail "systemctl enable --now"; }
[ -L "$root/etc/systemd/system/multi-user.target.wants/connscale-server.service" ] ||
	fail "enable made no multi-user.target.wants link"

# stats_query [KEYNAME]: one stats_req over CURVE with /root/client/KEYNAME's pair, prints the
# server_stats reply (exit 1 when none comes within 5 s).
stats_query() {
	/usr/bin/python3 - "$root" "$stats" "${1:-client}" <<'PY'
import json, sys, zmq
root, port, name = sys.argv[1:]
read = lambda p: open(root + p).read().strip().encode()
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.curve_serverkey = read("/etc/connscale/keys/server.pub")
s.curve_publickey = read(f"/root/client/{name}.pub")
s.curve_secretkey = read(f"/root/client/{name}.key")
s.linger = 0
s.connect(f"tcp://127.0.0.1:{port}")
s.send(json.dumps({"v": 1, "type": "stats_req"}).encode())
if not s.poll(5000):
    sys.exit(1)
print(s.recv().decode())
PY
}

# wait_active: the server's unit active and its stats endpoint answering, within 30 s.
wait_active() {
	local deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		if [ "$(show connscale-server.service ActiveState)" = active ] && stats_query >"$tmp/stats.json" 2>/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	nspawn_run journalctl -u connscale-server --no-pager | tail -n 20
	fail "connscale-server not active and answering stats in 30 s ($(show connscale-server.service ActiveState))"
}
wait_active
expect "systemctl is-active connscale-server" "$(nspawn_run systemctl is-active connscale-server.service)" active
expect "stats reply type" "$(jq -r .type "$tmp/stats.json")" server_stats
pid=$(show connscale-server.service MainPID)
[ "$pid" -gt 0 ] || fail "no MainPID"
# As systemd set it up: a dynamic user, the credential, the unit's limits.
# DynamicUser: a uid systemd allocates from 61184-65519, never root.
uid=$(nspawn_run awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] || fail "server runs as uid $uid, not a DynamicUser"
echo "ok: server runs as a DynamicUser (uid $uid)"
cred=/run/credentials/connscale-server.service/server.key
nspawn_run test -f $cred || fail "no credential $cred in the container"
# Only the service can read its secret key (0400, or 0440 with an ACL on newer systemd).
mode=$(nspawn_run stat -c %a $cred)
case "$mode" in 400 | 440) ;; *) fail "$cred has mode $mode, want 400 or 440" ;; esac
echo "ok: secret key handed over with LoadCredential ($cred, mode $mode)"
expect "TasksMax" "$(show connscale-server.service TasksMax)" infinity
# LimitNOFILE=1048576, as far as the container's systemd may raise it: without
# CAP_SYS_RESOURCE (some container hosts, this test's own sandbox among them) no process in
# it gets past the hard limit it was started with.
init_hard=$(nspawn_run awk '/^Max open files/ {print $5}' /proc/1/limits)
want=$((init_hard < 1048576 ? init_hard : 1048576))
nofile=$(nspawn_run awk '/^Max open files/ {print $4 "/" $5}' "/proc/$pid/limits")
expect "server's open files soft/hard limit" "$nofile" "$want/$want"
[ "$want" = 1048576 ] || echo "note: the container's hard limit is $init_hard: LimitNOFILE=1048576 capped to it"
echo "ok: server pid $pid: LimitNOFILE $nofile, TasksMax infinity"
# CURVE: a client whose key is not in --authorized-keys gets nothing.
if stats_query stranger >/dev/null 2>&1; then
	fail "the stats endpoint answered a client whose key is not authorized"
fi
nspawn_run journalctl -u connscale-server --no-pager -o cat | grep -q '1 authorized key in /etc/connscale/stats-clients' ||
	{ nspawn_run journalctl -u connscale-server --no-pager | tail -n 20; fail "server did not say it loaded 1 authorized key"; }
echo "ok: stats over CURVE answer the authorized client only"

# 4,200 connections held (from this machine, the network is shared): one thread each.
# The holder says how far it got in held.log: "connected N", then what the last one echoed.
/usr/bin/python3 - "$port" 4200 >"$tmp/held.log" 2>&1 <<'PY' &
import resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
socks = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(n)]
print("connected", len(socks), flush=True)
s = socks[-1]
s.sendall(b"ping")
got = b""
while len(got) < 4:
    got += s.recv(16)
print("echoed", got.decode(), flush=True)
time.sleep(180)
PY
holder=$!
deadline=$((SECONDS + 120))
held=0
while [ $SECONDS -lt $deadline ]; do
	stats_query >"$tmp/stats.json" 2>/dev/null && held=$(jq -r .conns_current "$tmp/stats.json")
	[ "$held" -ge 4200 ] && grep -q "^echoed" "$tmp/held.log" && break
	kill -0 $holder 2>/dev/null || break
	sleep 1
done
threads=$(jq -r .threads "$tmp/stats.json")
kill $holder 2>/dev/null || true
wait $holder 2>/dev/null || true
[ "$held" -ge 4200 ] || { cat "$tmp/held.log"; fail "the server held $held connections, want 4200"; }
grep -qx 'echoed ping' "$tmp/held.log" || { cat "$tmp/held.log"; fail "the 4,200th connection did not echo"; }
[ "$threads" -gt 4096 ] || fail "the server ran $threads threads for 4200 connections"
echo "ok: 4200 connections held under systemd ($threads threads, past 1,024 fds and 4,096 tasks)"

# --- the binaries replaced: dpkg -i again restarts the running service ---------------------------
nspawn_run dpkg -i /root/connscale.deb >"$tmp/reinstall.log" 2>&1 || { cat "$tmp/reinstall.log"; fail "dpkg -i (again)"; }
wait_active
pid2=$(show connscale-server.service MainPID)
[ "$pid2" -gt 0 ] && [ "$pid2" != "$pid" ] || fail "dpkg -i of the package again did not restart the server (pid $pid, now $pid2)"
exe=$(nspawn_run readlink "/proc/$pid2/exe")
case "$exe" in *deleted*) fail "the server runs a replaced file: $exe" ;; esac
expect "systemctl is-active after the binaries were replaced" "$(nspawn_run systemctl is-active connscale-server.service)" active
expect "conns_current after the restart" "$(jq -r .conns_current "$tmp/stats.json")" 0
echo "ok: replacing the binaries restarted the server (pid $pid -> $pid2, $exe)"

# --- purge ---------------------------------------------------------------------------------------
nspawn_run dpkg --purge connscale >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "dpkg --purge"; }
expect "connscale-server LoadState after purge" "$(show connscale-server.service LoadState)" not-found
expect "connscale-server ActiveState after purge" "$(show connscale-server.service ActiveState)" inactive
nspawn_run test -d "/proc/$pid2" && fail "the server (pid $pid2) still runs after purge"
if nspawn_run dpkg-query -W connscale >/dev/null 2>&1; then fail "dpkg still knows connscale after purge"; fi
for f in /usr/bin/connscale-server /usr/bin/connscale-agent /usr/bin/connscale-coordinator \
	/usr/lib/connscale /usr/lib/systemd/system/connscale-server.service \
	/usr/lib/systemd/system/connscale-agent.service /usr/share/doc/connscale /var/log/connscale \
	/etc/systemd/system/multi-user.target.wants/connscale-server.service; do
	[ ! -e "$root$f" ] && [ ! -L "$root$f" ] || fail "$f left after purge"
done
left=$(nspawn_run systemctl list-units --all --no-legend --plain 'connscale*' | grep -v '^$' || true)
[ -z "$left" ] || fail "systemd still lists: $left"
# The admin's files (deploy/ writes them; postrm says so) stay.
for f in /etc/default/connscale-server /etc/connscale/keys/server.key; do
	[ -e "$root$f" ] || fail "purge removed the admin's $f"
done
echo "ok: purge stopped the server and removed its units, links, binaries and logs (kept /etc/default, /etc/connscale)"
echo "PASS: dpkg -i, systemctl, LoadCredential, limits, restart on upgrade and purge under systemd as PID 1 ($((SECONDS - t0)) s)"
