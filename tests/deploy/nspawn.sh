#!/bin/bash
# Helpers for tests that boot a Debian 12 container with systemd as PID 1 (systemd-nspawn
# --boot), sourced after lib.sh. The root file system is made once with debootstrap from the
# Debian mirror apt uses here and kept in NSPAWN_CACHE; every test boots its own copy.

NSPAWN_CACHE=${CONNSCALE_NSPAWN_CACHE:-/var/cache/connscale/nspawn}
# What a minimal host running the package needs beyond the base system: systemd as init,
# D-Bus for systemctl, the package's run-time libraries (its Depends). The tests' own tools
# (python3-zmq, jq) run on this machine, outside.
NSPAWN_PACKAGES=systemd,systemd-sysv,dbus,libzmq5,libjansson4

# nspawn_mirror: the Debian mirror apt on this machine uses (CONNSCALE_DEBIAN_MIRROR overrides).
nspawn_mirror() {
	local m=${CONNSCALE_DEBIAN_MIRROR:-}
	[ -n "$m" ] || m=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
		grep -E '/debian/?$' | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

# nspawn_rootfs: prints the cached bookworm root file system, making it first if missing or
# made with another package list (debootstrap: ~2 min on an idle 2-core machine, 7 under load).
# One maker at a time (flock); a half-made tree is never used (made aside, then renamed).
nspawn_rootfs() {
	local dir=$NSPAWN_CACHE/bookworm stamp="bookworm minbase $NSPAWN_PACKAGES"
	mkdir -p "$NSPAWN_CACHE"
	exec 8>"$NSPAWN_CACHE/.lock"
	flock -w 900 8 || fail "another test holds $NSPAWN_CACHE/.lock"
	if [ "$(cat "$dir/.connscale-stamp" 2>/dev/null)" != "$stamp" ]; then
		local mirror log=$NSPAWN_CACHE/debootstrap.log
		mirror=$(nspawn_mirror)
		echo "making the bookworm root file system in $dir from $mirror (once)" >&2
		rm -rf "$dir" "$dir.new"
		debootstrap --variant=minbase --include="$NSPAWN_PACKAGES" bookworm "$dir.new" "$mirror" \
			>"$log" 2>&1 || { tail -n 20 "$log" >&2; fail "debootstrap bookworm from $mirror"; }
		echo "$stamp" >"$dir.new/.connscale-stamp"
		mv "$dir.new" "$dir"
	fi
	exec 8>&-
	echo "$dir"
}

# nspawn_boot ROOT NAME LOG: boots ROOT with systemd as PID 1 in the background; sets
# NSPAWN_PID (systemd-nspawn) and NSPAWN_INIT (the container's systemd, as this machine sees
# it) once systemd reports the system up. The container shares this machine's network, so a
# port it listens on is reachable here. Not registered with a machined (none here).
nspawn_boot() {
	local root=$1 name=$2 log=$3 state="" inner deadline
	systemd-nspawn -q -D "$root" -M "$name" --boot --register=no --keep-unit \
		--console=read-only >"$log" 2>&1 &
	NSPAWN_PID=$!
	NSPAWN_INIT=""
	deadline=$((SECONDS + 180))
	while [ $SECONDS -lt $deadline ]; do
		kill -0 "$NSPAWN_PID" 2>/dev/null || { tail -n 30 "$log" >&2; fail "systemd-nspawn exited during boot"; }
		if [ -z "$NSPAWN_INIT" ]; then
			# The init is systemd-nspawn's child (a grandchild while it sets the container up).
			NSPAWN_INIT=$(pgrep -x -P "$NSPAWN_PID" systemd | head -n 1 || true)
			inner=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
			[ -n "$NSPAWN_INIT" ] || [ -z "$inner" ] ||
				NSPAWN_INIT=$(pgrep -x -P "$inner" systemd | head -n 1 || true)
		fi
		if [ -n "$NSPAWN_INIT" ]; then
			state=$(nspawn_run systemctl is-system-running 2>/dev/null || true)
			case "$state" in running | degraded) break ;; esac
		fi
		sleep 1
	done
	case "$state" in
	running) ;;
	degraded) echo "note: container boot degraded: $(nspawn_run systemctl --failed --no-legend --plain | tr '\n' ';')" >&2 ;;
	*) tail -n 30 "$log" >&2; fail "container did not boot in 180 s (state: ${state:-no systemd})" ;;
	esac
}

# nspawn_run CMD...: runs CMD in the container (all its namespaces, a clean environment).
nspawn_run() {
	nsenter -t "$NSPAWN_INIT" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

# nspawn_stop: powers the container off (SIGTERM to systemd-nspawn: a clean shutdown), killing
# it after 60 s. A container stopped early in its boot may leave its init behind, orphaned:
# killing that PID 1 of the container's pid namespace ends everything in it.
nspawn_stop() {
	[ -n "${NSPAWN_PID:-}" ] || return 0
	if kill -TERM "$NSPAWN_PID" 2>/dev/null; then
		local deadline=$((SECONDS + 60))
		while kill -0 "$NSPAWN_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 1; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null || true
		wait "$NSPAWN_PID" 2>/dev/null || true
	fi
	[ -z "${NSPAWN_INIT:-}" ] || kill -KILL "$NSPAWN_INIT" 2>/dev/null || true
	NSPAWN_PID=""
	NSPAWN_INIT=""
}
