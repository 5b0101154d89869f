#!/bin/bash
# deploy.local: site.yml and run.yml end to end on this machine. Four inventory "hosts" over
# Ansible's local connection, each with its own install root (connscale_root): the package is
# extracted there and the services run with connscale-service, as on a host without systemd.
# Agents load the server from their own loopback addresses, on connscale_server_load_address;
# Ansible and the coordinator's stats reach it by name (localhost). Root only (the roles chown to root
# and install the runtime libraries); exit 77 (skipped) otherwise.
# usage: test_local.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=$1
src=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: deploy.local needs root (roles install packages and chown to root)"; exit 77; }
command -v ansible-playbook >/dev/null || fail "ansible-playbook not installed (scripts/deps)"

tmp=$(mktemp -d /tmp/connscale-deploy.XXXXXX)
hosts="srv ag1 ag2 coord"
cleanup() {
	for h in $hosts; do
		svc=$tmp/hosts/$h/usr/lib/connscale/connscale-service
		[ -x "$svc" ] || continue
		"$svc" --root "$tmp/hosts/$h" stop server >/dev/null 2>&1 || true
		"$svc" --root "$tmp/hosts/$h" stop agent >/dev/null 2>&1 || true
	done
	[ -n "${DEPLOY_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/ansible-tmp" "$tmp/cp"

deb=$(deploy_build_deb "$build" "$tmp/out")
port=$(deploy_free_port)
stats=$(deploy_free_port)
coord=$(deploy_free_port)
cat >"$tmp/hosts.ini" <<EOF2
[server]
srv ansible_host=localhost connscale_root=$tmp/hosts/srv

[agents]
ag1 ansible_host=127.0.0.1 connscale_root=$tmp/hosts/ag1 connscale_agent_source_ips='["127.0.0.71"]'
ag2 ansible_host=127.0.0.1 connscale_root=$tmp/hosts/ag2 connscale_agent_source_ips='["127.0.0.72"]'

[coordinator]
coord ansible_host=127.0.0.1 connscale_root=$tmp/hosts/coord

[all:vars]
ansible_connection=local
ansible_python_interpreter=/usr/bin/python3
ansible_become=false
connscale_deb=$deb
connscale_server_load_address=127.0.0.1
connscale_tuning_apply=false
connscale_tuning_keep_higher=false
connscale_tuning_connections_per_host=1000
connscale_tuning_sysctl_file=$tmp/hosts/{{ inventory_hostname }}/etc/sysctl.d/60-connscale.conf
connscale_server_listen_address=127.0.0.1
connscale_server_port=$port
connscale_server_stats_port=$stats
connscale_server_limit_nofile=4096
connscale_agent_limit_nofile=4096
connscale_coordinator_port=$coord
connscale_coordinator_bind=tcp://127.0.0.1:$coord
EOF2

DEPLOY_E2E_CHECK_RUN=1 DEPLOY_E2E_AGENTS=ag1,ag2 DEPLOY_E2E_COORDINATOR=tcp://127.0.0.1:$coord deploy_e2e "$src/deploy" "$tmp/hosts.ini" \
	"$src/examples/plans/local-demo.json" "$tmp"
# Each host got its own sysctl file, sized from its variables, not applied.
grep -q '^net.core.somaxconn = ' "$tmp/hosts/srv/etc/sysctl.d/60-connscale.conf" || fail "no sysctl file for srv"
grep -q -- '--source-ip 127.0.0.71' "$tmp/hosts/ag1/etc/default/connscale-agent" || fail "ag1 settings"
# The server is reached for control by name (ansible_host=localhost, the stats endpoint) and
# loaded on connscale_server_load_address: the plan's target and the agents' fence use it.
grep -q -- '--allow-target 127.0.0.1/32' "$tmp/hosts/ag1/etc/default/connscale-agent" ||
	fail "ag1 not fenced to connscale_server_load_address: $(cat "$tmp/hosts/ag1/etc/default/connscale-agent")"
expect "plan target.host" "$(jq -r .target.host "$tmp/hosts/coord/var/lib/connscale/plan.json")" 127.0.0.1
expect "plan server.stats" "$(jq -r .server.stats "$tmp/hosts/coord/var/lib/connscale/plan.json")" "tcp://localhost:$stats"
echo "PASS: site.yml + run.yml end to end over a local connection"
