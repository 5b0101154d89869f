#!/bin/bash
# deploy.lintian: the package `make package` builds is lintian clean: lintian exits 0 even when
# failing on warnings, and says no E: (error) or W: (warning) line, and no hardening-* tag. The
# tags that truly cannot be fixed are overridden, each with its reason, in
# packaging/lintian-overrides; this test prints them, so an override never hides quietly.
# usage: test_lintian.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=$1
command -v lintian >/dev/null || fail "lintian not installed (scripts/deps installs it)"
tmp=$(mktemp -d /tmp/connscale-lintian.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

deb=$(deploy_build_deb "$build" "$tmp/out")
set +e
# --fail-on: lintian's exit status is 0 by default whatever warnings it prints. (Not with
# --show-overrides: lintian 2.116 then fails on the overridden tags too.)
# -I (--display-info): the hardening-* tags (no PIE, RELRO, BIND_NOW, fortified functions)
# are info tags; the build passes Debian's hardening flags (CMakeLists.txt, connscale_build).
lintian -I --fail-on error,warning "$deb" >"$tmp/lintian.log" 2>&1
rc=$?
set -e
cat "$tmp/lintian.log"
[ $rc -eq 0 ] || fail "lintian exited $rc on $(basename "$deb")"
if grep -E '^[EW]: ' "$tmp/lintian.log" >"$tmp/bad"; then
	fail "lintian: $(wc -l <"$tmp/bad") error and warning lines on $(basename "$deb")"
fi
# A sanitizer build (the asan preset) leaves _FORTIFY_SOURCE out on purpose: it clashes with
# the sanitizers' interceptors (CMakeLists.txt). Every other hardening tag still fails it.
allowed='^$' but=
if grep -q '^CMAKE_C_FLAGS:STRING=.*-fsanitize=' "$build/CMakeCache.txt"; then
	allowed='hardening-no-fortify-functions'
	but=" but fortified functions, which a sanitizer build lacks on purpose"
fi
if grep -E '^[EWI]: connscale[^:]*: hardening-' "$tmp/lintian.log" | grep -Ev "$allowed"; then
	fail "lintian: the binaries lack hardening (dpkg-buildflags: -fstack-protector-strong, -D_FORTIFY_SOURCE=2, relro, now, PIE)"
fi
echo "ok: no hardening-* tag (PIE, RELRO, BIND_NOW, fortified functions)$but"
# What the package overrides (packaging/lintian-overrides, each with its reason).
overrides=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/lintian/overrides/connscale |
	grep -v -e '^#' -e '^$' || true)
echo "overridden: ${overrides:-nothing}"
echo "PASS: lintian: no errors or warnings on $(basename "$deb")"
