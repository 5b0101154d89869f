# Debian version ordering for the connscale_common role: the newest .deb among several is the one dpkg
# considers newest (0.10 after 0.9, 1.0~rc1 before 1.0), not the last in text order.
# The comparison is dpkg's own (lib/dpkg/version.c, verrevcmp); tests/deploy/test_debversion.sh
# checks it against `dpkg --compare-versions`.
"""Filters: connscale_newest_deb, connscale_version_compare."""

import functools
import os
import re


def _order(c):
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a, b):
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _parse(version):
    version = str(version).strip()
    epoch, colon, rest = version.partition(":")
    if not colon:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return int(epoch or 0), upstream, revision


def connscale_version_compare(a, b):
    """-1, 0 or 1 as Debian version a is older than, the same as, or newer than b."""
    ea, ua, ra = _parse(a)
    eb, ub, rb = _parse(b)
    if ea != eb:
        return -1 if ea < eb else 1
    r = _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
    return (r > 0) - (r < 0)


_DEB_NAME = re.compile(r"^[^_]+_([^_]+)_[^_]+\.deb$")


def _deb_version(path):
    # PACKAGE_VERSION_ARCH.deb (dpkg-name's and CPack's naming; the file name has no epoch).
    m = _DEB_NAME.match(os.path.basename(path))
    if not m:
        raise ValueError("%s is not named PACKAGE_VERSION_ARCH.deb" % path)
    return m.group(1)


def connscale_newest_deb(paths):
    """The path among PACKAGE_VERSION_ARCH.deb paths with the newest VERSION ('' if none)."""
    paths = list(paths or [])
    if not paths:
        return ""
    key = functools.cmp_to_key(lambda a, b: connscale_version_compare(_deb_version(a), _deb_version(b)))
    return max(paths, key=key)


class FilterModule:
    def filters(self):
        return {
            "connscale_newest_deb": connscale_newest_deb,
            "connscale_version_compare": connscale_version_compare,
        }
