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
# run.yml re-runs no whole role (install, keys: site.yml's): no play lists roles, and every
# include_role enters a role by one of the small entry points a run needs.
/usr/bin/python3 - <<'PY'
import sys, yaml
entry = {("connscale_server", "restart"), ("connscale_agent", "restart"),
         ("connscale_coordinator", "facts")}
bad = 0
def walk(tasks):
    global bad
    for t in tasks or []:
        for key in ("block", "rescue", "always"):
            walk(t.get(key))
        inc = t.get("ansible.builtin.include_role") or t.get("include_role") or \
            t.get("ansible.builtin.import_role") or t.get("import_role")
        if inc is not None and (inc.get("name"), inc.get("tasks_from")) not in entry:
            print(f"FAIL: run.yml: task {t.get('name')!r} enters role {inc.get('name')} at "
                  f"{inc.get('tasks_from') or 'main'}, not one of {sorted(entry)}"); bad = 1
for play in yaml.safe_load(open("run.yml")):
    if play.get("roles"):
        print(f"FAIL: run.yml: play {play.get('name')!r} runs whole roles {play['roles']}"); bad = 1
    for key in ("pre_tasks", "tasks", "post_tasks"):
        walk(play.get(key))
sys.exit(bad)
PY
echo "ok: run.yml runs no whole role (only connscale_server/connscale_agent restart, connscale_coordinator facts)"
echo "PASS: $n playbooks pass --syntax-check, tags present"
