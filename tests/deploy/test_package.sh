#!/bin/bash
# deploy.package: `cpack` (what `make package` runs) builds connscale_VERSION_ARCH.deb with the
# right control fields and contents; it installs into an empty dpkg root and removes cleanly;
# its binaries run; its systemd units pass `systemd-analyze verify`.
# usage: test_package.sh BUILD_DIR VERSION
set -euo pipefail
build=$1
version=$2
tmp=$(mktemp -d /tmp/connscale-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib/assert.sh"

# Into a directory of its own: never races `make package` or another test over build/.
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
	{ cat "$tmp/cpack.log"; fail "cpack"; }
arch=$(dpkg --print-architecture)
deb=$tmp/out/connscale_${version}_${arch}.deb
[ -f "$deb" ] || { ls "$tmp/out"; fail "expected $deb"; }

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = connscale ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
depends=$(field Depends)
for d in libzmq5 libjansson4; do
	echo "$depends" | grep -q "\b$d\b" || fail "Depends lacks $d: $depends"
done
echo "ok: control: connscale $version, Depends: $depends"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
for f in /usr/bin/server /usr/bin/agent /usr/bin/coordinator \
	/usr/lib/connscale/connscale-service \
	/usr/lib/systemd/system/connscale-server.service \
	/usr/lib/systemd/system/connscale-agent.service; do
	grep -qx "$f" "$tmp/contents" || { cat "$tmp/contents"; fail "package lacks $f"; }
done
# Nothing from the build tree or tests leaks in.
if grep -E '/(tests?|build|include)/|\.a$|old_agent|stats_probe' "$tmp/contents"; then
	fail "package holds test or build files"
fi
echo "ok: contents ($(grep -c -v '/$' "$tmp/contents") files)"

# Install into an empty dpkg database (dependencies are the host's, hence --force-depends).
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root -i "$deb" >"$tmp/dpkg.log" 2>&1 ||
	{ cat "$tmp/dpkg.log"; fail "dpkg -i"; }
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status} ${Version}' connscale)
[ "$status" = "install ok installed $version" ] || fail "dpkg status: $status"
for b in server agent coordinator; do
	[ -x "$root/usr/bin/$b" ] || fail "$b not installed"
	"$root/usr/bin/$b" --help >"$tmp/help" 2>&1 || fail "$b --help exited $?"
	grep -q "usage: $b" "$tmp/help" || fail "$b --help: $(head -n 1 "$tmp/help")"
done
echo "ok: dpkg --root install; server, agent and coordinator run"

# Units: fields known to this systemd, commands executable (pointed at the installed copy).
if command -v systemd-analyze >/dev/null; then
	for u in server agent; do
		unit=$root/usr/lib/systemd/system/connscale-$u.service
		for key in LimitNOFILE TasksMax Restart NoNewPrivileges ProtectSystem; do
			grep -q "^$key=" "$unit" || fail "connscale-$u.service lacks $key="
		done
		if grep -qE '^(PrivateNetwork|IPAddressDeny|ProtectProc)=' "$unit"; then
			fail "connscale-$u.service has an option that breaks it"
		fi
		sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$unit" >"$tmp/connscale-$u.service"
		out=$(systemd-analyze verify --man=no "$tmp/connscale-$u.service" 2>&1) ||
			{ echo "$out"; fail "systemd-analyze verify connscale-$u.service"; }
		[ -z "$out" ] || { echo "$out"; fail "systemd-analyze warns about connscale-$u.service"; }
	done
	echo "ok: systemd units verify"
else
	echo "note: systemd-analyze not installed, units not verified"
fi

dpkg --root="$root" --force-not-root -r connscale >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -r"; }
left=$( (find "$root/usr" -type f 2>/dev/null || true) | head -n 5)
[ -z "$left" ] || fail "files left after dpkg -r: $left"
echo "PASS: package connscale_${version}_${arch}.deb builds, installs, runs and removes"
