#!/bin/bash
# deploy.syntax: every playbook in deploy/ passes `ansible-playbook --syntax-check`.
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
echo "PASS: $n playbooks pass --syntax-check"
