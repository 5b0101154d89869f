#!/bin/bash
# deploy.lab.cleanup: what deploy.lab leaves when it is killed (its timeout) rather than ending:
# the sshds, servers and agents under /tmp/connscale-deploylab.*, and the lab. Exit 0 when
# nothing is left; 77 (skipped) when not root.
# usage: lab_cleanup.sh LAB
lab=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
left=$(pgrep -f '/tmp/connscale-deploylab\.' | wc -l)
if [ "$left" -gt 0 ]; then
	echo "deploy.lab left $left processes; stopping them"
	pkill -TERM -f '/tmp/connscale-deploylab\.'
	sleep 1
	pkill -KILL -f '/tmp/connscale-deploylab\.'
	"$lab" down
fi
[ -n "${DEPLOY_KEEP:-}" ] || rm -rf /tmp/connscale-deploylab.*
left=$(pgrep -f '/tmp/connscale-deploylab\.' | wc -l)
[ "$left" -eq 0 ] || { echo "FAIL: $left processes still there"; exit 1; }
echo "ok: nothing of deploy.lab left"
