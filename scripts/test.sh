#!/usr/bin/env bash
# The test command: every tier (or the ones named), against the real PostgreSQL and RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
# The fault-injection suite stops and restarts the shared PostgreSQL and RabbitMQ; it takes this
# lock exclusively, every other test run shares it, so the two never overlap on one machine.
# Passing through the gate first queues a run behind a fault suite that is waiting for the lock
# (otherwise overlapping runs could keep it waiting for ever).
exec 8>"${TMPDIR:-/tmp}/tally-services.gate"
flock -x 8
exec 9>"${TMPDIR:-/tmp}/tally-services.lock"
flock -s 9
exec 8>&-
exec node dist/test/support/run-tests.js "$@"
