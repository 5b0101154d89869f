#!/bin/bash
# deploy.debversion: the connscale_common role's default .deb is the newest by Debian version, not the
# last in text order. Its comparison (roles/connscale_common/filter_plugins/connscale_debversion.py)
# agrees with `dpkg --compare-versions` on versions whose text order misleads, and the role's
# default connscale_deb, given build/default/ with 0.9 and 0.10 (and 0.10~rc1, 0.10-1.1),
# picks the newest.
# usage: test_debversion.sh DEPLOY_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
deploy=$1
command -v ansible-playbook >/dev/null || fail "ansible-playbook not installed (scripts/deps installs it)"
command -v dpkg >/dev/null || fail "no dpkg"
plugins=$deploy/roles/connscale_common/filter_plugins
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- the comparison against dpkg's -------------------------------------------------------------
pairs='0.9 0.10
0.9-1 0.10-1
0.10~rc1-1 0.10-1
1.0~~ 1.0~
1.0 1.0-0
1.0-1 1.0-1.1
1.0-9 1.0-10
1:0.1 2.0
0:2.0 2.0
1.0a 1.0+
1.0.0 1.0
1.00 1.0
2.0-1 1.99-2
1.0+dfsg1-1 1.0-1
1.2.3 1.2.10'
# dpkg's answers, then the filter's, in one python3 (a process per pair took a minute here
# under load).
want=$(while read -r a b; do
	if dpkg --compare-versions "$a" lt "$b"; then echo lt
	elif dpkg --compare-versions "$a" eq "$b"; then echo eq
	else echo gt; fi
done <<<"$pairs")
got=$(/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import connscale_debversion as d
for line in sys.stdin:
    a, b = line.split()
    print({-1: "lt", 0: "eq", 1: "gt"}[d.connscale_version_compare(a, b)])
' "$plugins" <<<"$pairs")
n=0
while read -r a b && read -r w <&3 && read -r g <&4; do
	expect "$a vs $b" "$g" "$w"
	n=$((n + 1))
done <<<"$pairs" 3<<<"$want" 4<<<"$got"
[ "$n" -eq "$(echo "$pairs" | wc -l)" ] || fail "compared $n pairs"
echo "ok: $n comparisons as dpkg --compare-versions makes them"

# --- the role's default connscale_deb ----------------------------------------------------------
# playbook_dir is $tmp/deploy, so the default looks in $tmp/build/default, as it looks in the
# checkout's build/default from deploy/.
mkdir -p "$tmp/deploy" "$tmp/build/default"
cat >"$tmp/deploy/newest.yml" <<PLAY
- name: Show the default package
  hosts: localhost
  gather_facts: false
  vars_files:
    - $deploy/roles/connscale_common/defaults/main.yml
  tasks:
    - name: Print connscale_deb
      ansible.builtin.debug:
        msg: "deb={{ connscale_deb }}"
PLAY
newest() {
	ANSIBLE_FILTER_PLUGINS=$plugins ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false \
		ANSIBLE_INVENTORY_UNPARSED_WARNING=false ansible-playbook -i localhost, -c local \
		"$tmp/deploy/newest.yml" 2>&1 | sed -n 's/.*"msg": "deb=\(.*\)".*/\1/p'
}
d=$tmp/build/default
# Text order puts 0.9 last (the case `sort | last` got wrong); dpkg's, 0.10-1.1.
touch "$d/connscale_0.9-1_amd64.deb" "$d/connscale_0.10~rc1-1_amd64.deb" "$d/connscale_0.10-1_amd64.deb" \
	"$d/connscale_0.10-1.1_amd64.deb"
expect "text order's last" "$(cd "$d" && ls connscale_*.deb | sort | tail -n 1)" connscale_0.9-1_amd64.deb
expect "the role's default of 0.9-1, 0.10~rc1-1, 0.10-1, 0.10-1.1" "$(newest)" "$d/connscale_0.10-1.1_amd64.deb"
expect "the filter, of none" "$(/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import connscale_debversion as d
print(repr(d.connscale_newest_deb([])))' "$plugins")" "''"
echo "ok: the default .deb is the newest by version"
echo "PASS: .deb versions compared as dpkg does; the role's default package is the newest"
