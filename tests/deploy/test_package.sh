#!/bin/bash
# deploy.package: `cpack` (what `make package` runs) builds connscale_VERSION-REVISION_ARCH.deb
# with the right control fields (Depends from dpkg-shlibdeps) and contents (connscale-* in
# /usr/bin, never the short names); it installs into an empty dpkg root and is removed and
# purged cleanly; its binaries run (the coordinator finds its siblings for a local plan); its
# systemd units pass `systemd-analyze verify`; its maintainer scripts do what a systemd host
# needs, and nothing where systemd does not run this system.
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
deb=$(ls "$tmp"/out/connscale_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { ls "$tmp/out"; fail "cpack made no connscale_*.deb"; }

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = connscale ] || fail "Package: $(field Package)"
debversion=$(field Version)
# A Debian revision: not a native package (its changelog is changelog.Debian.gz).
[[ $debversion =~ ^${version//./\\.}-[0-9]+$ ]] || fail "Version: $debversion, want $version-REVISION"
[ "$(basename "$deb")" = "connscale_${debversion}_${arch}.deb" ] || fail "file name $(basename "$deb")"
[[ "$(field Maintainer)" =~ ^[^\<]+\ \<[^@\>]+@[^@\>]+\.[a-z]+\>$ ]] || fail "Maintainer: $(field Maintainer)"
case "$(field Maintainer)" in *localhost*) fail "Maintainer: $(field Maintainer)" ;; esac
# dpkg-shlibdeps: every library the binaries link, each with a lowest version.
depends=$(field Depends)
for d in libc6 libzmq5 libjansson4; do
	echo "$depends" | grep -qE "(^|, )$d \(>= [0-9][^)]*\)" || fail "Depends lacks $d (>= ...): $depends"
done
echo "ok: control: connscale $debversion, Depends: $depends"
dpkg-deb -I "$deb" | grep -E '^ Depends: .*libc6 .*' | grep -q libzmq5 || fail "dpkg-deb -I: no Depends with libc6 and libzmq5"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
for f in /usr/bin/connscale-server /usr/bin/connscale-agent /usr/bin/connscale-coordinator \
	/usr/lib/connscale/connscale-service \
	/usr/lib/systemd/system/connscale-server.service \
	/usr/lib/systemd/system/connscale-agent.service \
	/usr/share/doc/connscale/copyright /usr/share/doc/connscale/changelog.Debian.gz \
	/usr/share/man/man1/connscale-server.1.gz /usr/share/man/man1/connscale-agent.1.gz \
	/usr/share/man/man1/connscale-coordinator.1.gz; do
	grep -qx "$f" "$tmp/contents" || { cat "$tmp/contents"; fail "package lacks $f"; }
done
# The short names clash in /usr/bin (README "Deploy on real machines").
if grep -E '^/usr/(local/)?s?bin/(server|agent|coordinator)$' "$tmp/contents"; then
	fail "package installs a short name in /usr/bin"
fi
# Nothing from the build tree or tests leaks in.
if grep -E '/(tests?|build|include)/|\.a$|old_agent|stats_probe' "$tmp/contents"; then
	fail "package holds test or build files"
fi
echo "ok: contents ($(grep -c -v '/$' "$tmp/contents") files): connscale-{server,agent,coordinator}, no short names"

# The documentation Debian requires: DEP-5 copyright, a changelog for this very version.
mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
doc=$tmp/x/usr/share/doc/connscale
head -n 1 "$doc/copyright" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
	fail "copyright is not DEP-5: $(head -n 1 "$doc/copyright")"
grep -q '^Files: \*$' "$doc/copyright" || fail "copyright has no 'Files: *' paragraph"
gzip -t "$doc/changelog.Debian.gz" || fail "changelog.Debian.gz is not gzip"
top=$(zcat "$doc/changelog.Debian.gz" | head -n 1)
[[ $top == "connscale ($debversion) "* ]] || fail "changelog's first entry is not $debversion: $top"
echo "ok: copyright (DEP-5) and changelog.Debian.gz ($top)"

# Install into an empty dpkg database (dependencies are the host's, hence --force-depends).
# The maintainer scripts run here, not chrooted into the empty root (no /bin/sh there), with
# DPKG_ROOT set: they must leave this host's systemd and services alone.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg_root() { dpkg --root="$root" --force-depends --force-not-root --force-script-chrootless "$@"; }
dpkg_root -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -i"; }
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status} ${Version}' connscale)
[ "$status" = "install ok installed $debversion" ] || fail "dpkg status: $status"
for b in server agent coordinator; do
	[ -x "$root/usr/bin/connscale-$b" ] || fail "connscale-$b not installed"
	"$root/usr/bin/connscale-$b" --help >"$tmp/help" 2>&1 || fail "connscale-$b --help exited $?"
	grep -q "usage: $b" "$tmp/help" || fail "connscale-$b --help: $(head -n 1 "$tmp/help")"
done
echo "ok: dpkg --root install; connscale-server, connscale-agent and connscale-coordinator run"

# postinst recorded the units for deb-systemd-helper (under DPKG_ROOT), enabling nothing.
if command -v deb-systemd-helper >/dev/null; then
	for u in server agent; do
		[ -f "$root/var/lib/systemd/deb-systemd-helper-enabled/connscale-$u.service.dsh-also" ] ||
			fail "postinst did not record connscale-$u.service with deb-systemd-helper"
	done
	[ -z "$(find "$root/etc" -name 'connscale-*.service' 2>/dev/null)" ] || fail "postinst enabled a unit"
	echo "ok: postinst recorded the units (deb-systemd-helper update-state), enabled none"
fi

# A local plan: the installed coordinator starts the installed server and agent, found beside
# it (/usr/lib/connscale) without CONNSCALE_BIN.
cat >"$tmp/local.json" <<'EOT'
{
  "name": "package-local",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 1, "join_timeout_s": 10},
  "connections": 20,
  "steps": [20],
  "ramp": {"rate_per_s": 1000, "connect_timeout_ms": 3000},
  "echo": {"payload_bytes": 16, "rounds": 1, "interval_ms": 0, "timeout_ms": 5000},
  "hold_s": 0,
  "thresholds": ["failed == 0"],
  "local": {"agents": 1, "server": {"model": "epoll"}}
}
EOT
(cd "$tmp" && env -u CONNSCALE_BIN timeout 60 "$root/usr/bin/connscale-coordinator" --quiet \
	--report "$tmp/local-report.json" "$tmp/local.json" >"$tmp/local.log" 2>&1) ||
	{ cat "$tmp/local.log"; fail "connscale-coordinator with a local plan exited $?"; }
out=$(jq -r '[.status, .totals.established] | @tsv' "$tmp/local-report.json")
[ "$out" = "$(printf 'pass\t20')" ] || fail "local plan: status and established: $out"
echo "ok: connscale-coordinator ran a local plan with the packaged server and agent (20 established)"

# Units: fields known to this systemd, commands executable (pointed at the installed copy).
if command -v systemd-analyze >/dev/null; then
	for u in server agent; do
		unit=$root/usr/lib/systemd/system/connscale-$u.service
		grep -q "^ExecStart=/usr/bin/connscale-$u " "$unit" || fail "connscale-$u.service: $(grep ^ExecStart= "$unit")"
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

# The maintainer scripts as a host running systemd sees them: the real scripts, their
# /run/systemd/system test and connscale-service pointed into $tmp, systemctl and the
# deb-systemd-* helpers stubs that log their arguments.
dpkg-deb -e "$deb" "$tmp/control"
mkdir -p "$tmp/stubs" "$tmp/sd/run/systemd/system" "$tmp/sd/var/log/connscale"
for s in systemctl deb-systemd-invoke deb-systemd-helper connscale-service; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$s" "$tmp" >"$tmp/stubs/$s"
	chmod +x "$tmp/stubs/$s"
done
for s in postinst prerm postrm; do
	sed -e "s|/run/systemd/system|$tmp/sd/run/systemd/system|g" \
		-e "s|/usr/lib/connscale/connscale-service|$tmp/stubs/connscale-service|g" \
		"$tmp/control/$s" >"$tmp/$s"
	chmod +x "$tmp/$s"
done
units="connscale-server.service connscale-agent.service"
# maint WANT SCRIPT ARGS...: runs the script (with DPKG_ROOT unset unless the caller sets it)
# and compares the calls it made, one a line, with WANT.
maint() {
	local want=$1 s=$2
	shift 2
	: >"$tmp/calls"
	PATH=$tmp/stubs:$PATH "$tmp/$s" "$@" || fail "$s $* exited $?"
	[ "$(cat "$tmp/calls")" = "$want" ] || fail "$s $*: calls
$(cat "$tmp/calls")
want
$want"
}
(
	unset DPKG_ROOT
	maint "deb-systemd-helper update-state $units
systemctl --system daemon-reload" postinst configure
	maint "deb-systemd-helper update-state $units
systemctl --system daemon-reload
deb-systemd-invoke restart $units" postinst configure 0.0.9-1
	maint "deb-systemd-invoke stop $units" prerm remove
	maint "" prerm upgrade "$debversion"
	maint "systemctl --system daemon-reload" postrm remove
	maint "" postrm upgrade "$debversion"
	# Without systemd: the services connscale-service started are stopped on removal.
	rmdir "$tmp/sd/run/systemd/system"
	maint "deb-systemd-helper update-state $units" postinst configure 0.0.9-1
	maint "connscale-service stop server
connscale-service stop agent" prerm remove
	maint "" postrm remove
	# Purge, into another root: the unit links recorded in postinst and the logs go.
	DPKG_ROOT=$tmp/sd maint "deb-systemd-helper purge $units" postrm purge
	[ ! -e "$tmp/sd/var/log/connscale" ] || fail "postrm purge left var/log/connscale"
	set +e
	"$tmp/postinst" bogus >/dev/null 2>&1
	[ $? -eq 1 ] || fail "postinst accepted an unknown argument"
)
echo "ok: maintainer scripts: daemon-reload, restart on upgrade, stop on removal (systemd or connscale-service), purge"

mkdir -p "$root/var/log/connscale"
echo old >"$root/var/log/connscale/server.log"
dpkg_root -r connscale >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -r"; }
left=$( (find "$root/usr" -type f 2>/dev/null || true) | head -n 5)
[ -z "$left" ] || fail "files left after dpkg -r: $left"
[ -z "$(find "$root/usr" -type l 2>/dev/null)" ] || fail "links left after dpkg -r: $(find "$root/usr" -type l)"
[ -f "$root/var/log/connscale/server.log" ] || fail "dpkg -r removed the logs (only purge should)"
dpkg_root -P connscale >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg -P"; }
[ ! -e "$root/var/log/connscale" ] || fail "dpkg -P left var/log/connscale"
[ -z "$(ls "$root/var/lib/systemd/deb-systemd-helper-enabled" 2>/dev/null)" ] ||
	fail "dpkg -P left deb-systemd-helper state: $(ls "$root/var/lib/systemd/deb-systemd-helper-enabled")"
echo "PASS: package $(basename "$deb") builds, installs, runs, removes and purges"
