#!/bin/bash
# deploy.lab: site.yml and run.yml over real SSH into the network-namespace lab (tests/lab/lab):
# an sshd in cs-server (198.18.0.1), cs-agent1/2 (198.18.0.11/12) and one on the bridge address
# (198.18.0.254, the coordinator). The namespaces share one filesystem, so every "host" is
# deployed into its own connscale_root. Root only; exit 77 (skipped) otherwise.
# usage: test_lab.sh LAB BUILD_DIR SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lab=$1
build=$2
src=$3
[ "$(id -u)" -eq 0 ] || { echo "SKIP: deploy.lab needs root (network namespaces, sshd)"; exit 77; }
[ -x "$lab" ] || { echo "SKIP: no lab tool at $lab"; exit 77; }
[ -x /usr/sbin/sshd ] || fail "sshd not installed (scripts/deps installs openssh-server)"
command -v ansible-playbook >/dev/null || fail "ansible-playbook not installed (scripts/deps)"

tmp=$(mktemp -d /tmp/connscale-deploylab.XXXXXX)
hosts="srv ag1 ag2 coord"
cleanup() {
	for h in $hosts; do
		[ -f "$tmp/sshd-$h.pid" ] && kill "$(cat "$tmp/sshd-$h.pid")" 2>/dev/null || true
		svc=$tmp/hosts/$h/usr/lib/connscale/connscale-service
		[ -x "$svc" ] || continue
		"$svc" --root "$tmp/hosts/$h" stop server >/dev/null 2>&1 || true
		"$svc" --root "$tmp/hosts/$h" stop agent >/dev/null 2>&1 || true
	done
	# Ansible's multiplexed SSH masters (ControlPersist) would outlive the test.
	for s in "$tmp"/cp/*; do
		[ -S "$s" ] && ssh -o ControlPath="$s" -O exit lab >/dev/null 2>&1 || true
	done
	"$lab" down >/dev/null 2>&1 || true
	[ -n "${DEPLOY_KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/ansible-tmp" "$tmp/cp" /run/sshd

# The lab tests' lock: one lab user at a time, whatever runs beside this.
exec 9>/run/connscale-lab.lock
flock -w 300 9 || fail "another lab run holds /run/connscale-lab.lock"
. "$here/../lab/lib.sh"
lab_clear_stale "$lab"
set +e
"$lab" up 2 >"$tmp/lab.log" 2>&1
rc=$?
set -e
[ $rc -eq 77 ] && { cat "$tmp/lab.log"; exit 77; }
[ $rc -eq 0 ] || { cat "$tmp/lab.log"; fail "lab up"; }

# One sshd per "host", each on its own address, keys only.
ssh-keygen -q -t ed25519 -N '' -f "$tmp/id" && ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
cp "$tmp/id.pub" "$tmp/authorized_keys"
start_sshd() { # NAME LAB_HOST ADDRESS
	cat >"$tmp/sshd-$1.conf" <<EOT
ListenAddress $3:2222
HostKey $tmp/hostkey
PidFile $tmp/sshd-$1.pid
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
EOT
	"$lab" exec "$2" /usr/sbin/sshd -f "$tmp/sshd-$1.conf" -E "$tmp/sshd-$1.log" ||
		fail "sshd for $1: $(cat "$tmp/sshd-$1.log")"
}
start_sshd srv server 198.18.0.1
start_sshd ag1 agent1 198.18.0.11
start_sshd ag2 agent2 198.18.0.12
start_sshd coord root 198.18.0.254

deb=$(deploy_build_deb "$build" "$tmp/out")
coord=$(deploy_free_port)
cat >"$tmp/hosts.ini" <<EOF2
[server]
srv ansible_host=198.18.0.1 connscale_root=$tmp/hosts/srv

[agents]
ag1 ansible_host=198.18.0.11 connscale_root=$tmp/hosts/ag1 connscale_agent_source_ips='["198.18.0.11"]'
ag2 ansible_host=198.18.0.12 connscale_root=$tmp/hosts/ag2 connscale_agent_source_ips='["198.18.0.12"]'

[coordinator]
coord ansible_host=198.18.0.254 connscale_root=$tmp/hosts/coord

[all:vars]
ansible_user=root
ansible_port=2222
ansible_ssh_private_key_file=$tmp/id
ansible_python_interpreter=/usr/bin/python3
ansible_become=false
connscale_deb=$deb
connscale_tuning_apply=false
connscale_tuning_keep_higher=false
connscale_tuning_connections_per_host=1000
connscale_tuning_sysctl_file=$tmp/hosts/{{ inventory_hostname }}/etc/sysctl.d/60-connscale.conf
connscale_server_port=1234
connscale_server_stats_port=5701
connscale_server_limit_nofile=4096
connscale_agent_limit_nofile=4096
connscale_coordinator_port=$coord
connscale_coordinator_bind=tcp://198.18.0.254:$coord
EOF2

DEPLOY_E2E_AGENTS=ag1,ag2 DEPLOY_E2E_COORDINATOR=tcp://198.18.0.254:$coord deploy_e2e "$src/deploy" "$tmp/hosts.ini" \
	"$src/examples/plans/local-demo.json" "$tmp"
# The agents really ran in their namespaces: the server saw their addresses.
grep -q -- '--source-ip 198.18.0.11' "$tmp/hosts/ag1/etc/default/connscale-agent" || fail "ag1 settings"
echo "PASS: site.yml + run.yml end to end over SSH into the lab"
