#!/bin/bash
# deploy.lint: deploy/ is ansible-lint clean with the production profile (deploy/.ansible-lint).
# usage: test_lint.sh DEPLOY_DIR
set -euo pipefail
deploy=$1
command -v ansible-lint >/dev/null || { echo "FAIL: ansible-lint not installed (scripts/deps installs it)"; exit 1; }
cd "$deploy"
grep -q '^profile: production' .ansible-lint || { echo "FAIL: .ansible-lint must select the production profile"; exit 1; }
export ANSIBLE_CONFIG=$deploy/ansible.cfg NO_COLOR=1 ANSIBLE_NOCOLOR=1
if ! out=$(ansible-lint --offline --profile production 2>&1); then
	echo "FAIL: ansible-lint:"
	echo "$out"
	exit 1
fi
echo "$out" | tail -n 1
echo "$out" | grep -q 'Passed with production profile' || { echo "FAIL: unexpected ansible-lint output"; exit 1; }
# Every role documents its variables and types them.
for role in roles/*/; do
	for f in defaults/main.yml meta/argument_specs.yml meta/main.yml tasks/main.yml; do
		[ -f "$role$f" ] || { echo "FAIL: $role$f missing"; exit 1; }
	done
done
for role in connscale_common connscale_tuning connscale_server connscale_agent connscale_coordinator; do
	[ -d "roles/$role" ] || { echo "FAIL: role $role missing"; exit 1; }
done
# defaults/main.yml and meta/argument_specs.yml name the same variables.
python3 - <<'PY'
import glob, sys, yaml
bad = 0
for d in sorted(glob.glob("roles/*/")):
    # In a shared roles path a role is found by its directory's name: connscale_ like its
    # variables (a bare "server" or "agent" would clash), and the same in meta/main.yml.
    role = d.rstrip("/").split("/")[-1]
    if not role.startswith("connscale_"):
        print(f"FAIL: {d}: role name {role} is not prefixed connscale_"); bad = 1
    meta = yaml.safe_load(open(d + "meta/main.yml"))
    if meta["galaxy_info"].get("role_name") != role:
        print(f"FAIL: {d}meta/main.yml: role_name {meta['galaxy_info'].get('role_name')!r}, "
              f"want {role!r}"); bad = 1
    defaults = set((yaml.safe_load(open(d + "defaults/main.yml")) or {}).keys())
    spec = yaml.safe_load(open(d + "meta/argument_specs.yml"))["argument_specs"]["main"]
    options = spec.get("options", {})
    for name, opt in options.items():
        if "type" not in opt or "description" not in opt:
            print(f"FAIL: {d}meta/argument_specs.yml: {name}: needs type and description"); bad = 1
    for name in sorted(defaults ^ set(options)):
        where = "argument_specs" if name in defaults else "defaults"
        print(f"FAIL: {d}: {name} missing from {where}"); bad = 1
    # The roles can share a roles path with others': every variable they define is connscale_.
    for name in sorted(defaults | set(options)):
        if not name.startswith("connscale_"):
            print(f"FAIL: {d}: variable {name} is not prefixed connscale_"); bad = 1
sys.exit(bad)
PY
# One TasksMax for the agent and one for the server: each unit's (infinity: a thread per
# connection). Their roles' drop-ins must not set a second one that could disagree with it,
# nor keep a variable for it.
for svc in agent server; do
	unit=$deploy/../packaging/systemd/connscale-$svc.service
	[ "$(grep -c '^TasksMax=' "$unit")" = 1 ] || { echo "FAIL: $unit must set TasksMax once"; exit 1; }
	if grep -rnE '^[[:space:]]*TasksMax[[:space:]]*=|tasks_max' roles/connscale_$svc; then
		echo "FAIL: roles/connscale_$svc sets TasksMax beside the unit's ($unit)"
		exit 1
	fi
done
echo "ok: the agent's and the server's TasksMax are set once each, in their units"
echo "PASS: ansible-lint (production) clean, every role has defaults and argument_specs, roles and variables prefixed connscale_"
