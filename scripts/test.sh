#!/usr/bin/env bash
# The test command: every tier (or the ones named), against the real PostgreSQL and RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
exec node dist/test/support/run-tests.js "$@"
