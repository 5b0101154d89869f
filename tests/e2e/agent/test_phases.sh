#!/bin/bash
# Runs test_agent_phases against a faithful faulty_server.
PHASES=$1 FAULTY=$2
. "$(dirname "$0")/lib.sh"
start_listener fs "$FAULTY"
timeout 120 "$PHASES" $PORT || fail "test_agent_phases"
stop_listener fs
echo PASS
