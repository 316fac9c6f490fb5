#!/usr/bin/env bash
# The test command: every tier (or the ones named), against the real PostgreSQL and RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
# The fault-injection suite stops and restarts the shared PostgreSQL and RabbitMQ; it takes this
# lock exclusively, every other test run shares it, so the two never overlap on one machine.
exec 9>"${TMPDIR:-/tmp}/tally-services.lock"
flock -s 9
exec node dist/test/support/run-tests.js "$@"
