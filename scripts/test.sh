#!/usr/bin/env bash
# The test command: Jest over every tier (jest.config.mjs), or one tier and what Jest's arguments
# select —
#   npm test                              every tier, the fault-injection suite last
#   npm run test:e2e -- webhooks          the e2e files whose path matches "webhooks"
#   npm run test:api -- -t 'refunds'      the api tier's tests whose name matches "refunds"
#   bash scripts/test.sh [tier] [jest arguments…]
# against the machine's PostgreSQL and RabbitMQ (started if they are not running), after a build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
bash scripts/ensure-promtool.sh

# Jest runs in a process group of its own: whatever is left of it when it ends (an app a failed
# test did not stop) is ended with it. The services lock's holders outlive that on purpose: they
# let go when Jest's end closes their input, the fault suite's only once the services run again.
jest=""
end_group() {
  local status=$?
  if [ -n "$jest" ]; then kill -- "-$jest" 2>/dev/null || true; fi
  exit "$status"
}
trap end_group EXIT
trap 'exit 130' INT TERM
args=("$@")
case "${1:-}" in
  # Last on the line: --selectProjects takes every word after it as a project name.
  unit) args=("${@:2}" --selectProjects unit --maxWorkers=2) ;; # no shared state: files in parallel
  integration | service | api | e2e | faults) args=("${@:2}" --selectProjects "$1") ;;
esac
NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --disable-warning=ExperimentalWarning" \
  setsid -w node node_modules/jest/bin/jest.js "${args[@]}" &
jest=$!
wait "$jest"
