#!/bin/bash
# deploy.syntax: every playbook in deploy/ passes `ansible-playbook --syntax-check`, and the
# documented tags exist.
# usage: test_syntax.sh DEPLOY_DIR
set -euo pipefail
deploy=$1
command -v ansible-playbook >/dev/null || { echo "FAIL: ansible-playbook not installed (scripts/deps installs it)"; exit 1; }
cd "$deploy"
export ANSIBLE_CONFIG=$deploy/ansible.cfg ANSIBLE_NOCOLOR=1
# A playbook is a top-level YAML file whose plays name their hosts.
playbooks=$(grep -l -E '^[[:space:]-]*hosts:' ./*.yml)
[ -n "$playbooks" ] || { echo "FAIL: no playbooks in $deploy"; exit 1; }
n=0
for p in $playbooks; do
	if ! out=$(ansible-playbook --syntax-check "$p" 2>&1); then
		echo "FAIL: $p:"
		echo "$out"
		exit 1
	fi
	echo "ok: $p"
	n=$((n + 1))
done
# site.yml and run.yml are what the README promises.
for want in site.yml run.yml; do
	echo "$playbooks" | grep -qx "./$want" || { echo "FAIL: $want missing"; exit 1; }
done
# The tags the README documents select what they say: every one is on site.yml's or run.yml's
# tasks (a renamed tag would silently select nothing).
tags_of() { ansible-playbook --list-tags "$1" 2>&1 | sed -n 's/.*TASK TAGS: \[\(.*\)\]/\1/p' | tr -d ' ' | tr ',' '\n' | sort -u; }
site_tags=$(tags_of site.yml)
run_tags=$(tags_of run.yml)
for t in tuning install keys config service; do
	echo "$site_tags" | grep -qx "$t" || { echo "FAIL: site.yml has no task tagged $t (tags: $site_tags)"; exit 1; }
done
for t in service run; do
	echo "$run_tags" | grep -qx "$t" || { echo "FAIL: run.yml has no task tagged $t (tags: $run_tags)"; exit 1; }
done
echo "ok: tags tuning, install, keys, config, service (site.yml), service, run (run.yml)"
echo "PASS: $n playbooks pass --syntax-check, tags present"
