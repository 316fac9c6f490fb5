#!/usr/bin/env bash
# The test command: every tier and the fault-injection suite (or only the tiers named), against
# the real PostgreSQL and RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
bash scripts/ensure-promtool.sh
# The fault-injection suite stops and restarts the shared PostgreSQL and RabbitMQ; it takes this
# lock exclusively, every other test run shares it, so the two never overlap on one machine.
# Passing through the gate first queues a run behind a fault suite that is waiting for the lock
# (otherwise overlapping runs could keep it waiting for ever).
tiers() (
  exec 8>"${TMPDIR:-/tmp}/tally-services.gate"
  flock -x 8
  exec 9>"${TMPDIR:-/tmp}/tally-services.lock"
  flock -s 9
  exec 8>&-
  exec node dist/test/support/run-tests.js "$@"
)
if [ $# -gt 0 ] || [ -n "${TEST_FILTER:-}" ]; then
  tiers "$@"
else
  # Every test: unit, integration and e2e, then the fault-injection suite (which takes the lock
  # exclusively itself, once this run has let go of it).
  tiers
  exec bash scripts/test-faults.sh
fi
