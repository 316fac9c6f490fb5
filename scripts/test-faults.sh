#!/usr/bin/env bash
# The fault-injection suite (test/faults): kills apps mid-work, stops RabbitMQ, restarts PostgreSQL.
# Those services are shared by every test run on this machine, so it takes the services lock
# EXCLUSIVELY (it waits for running `npm test`s to finish and keeps new ones waiting), and it
# always leaves PostgreSQL and RabbitMQ running when it ends, passed, failed or interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh

# Hold the gate (new test runs queue behind it), then wait for the runs under way to finish.
exec 8>"${TMPDIR:-/tmp}/tally-services.gate"
flock -x 8
lock="${TMPDIR:-/tmp}/tally-services.lock"
exec 9>"$lock"
if ! flock -x -n 9; then
  echo "[faults] waiting for the test runs under way to release $lock" >&2
  flock -x 9
fi

# Every process started from here on gets `8>&- 9>&-`: a server (re)started with a lock's
# descriptor would hold that lock for as long as it runs.
suite=""
restore_services() {
  local status=$?
  # The suite runs in a process group of its own: end whatever of it is left (apps included).
  if [ -n "$suite" ]; then kill -- "-$suite" 2>/dev/null || true; fi
  rabbitmqctl start_app >/dev/null 2>&1 8>&- 9>&- || true
  bash scripts/services.sh 8>&- 9>&- || status=1
  exit "$status"
}
trap restore_services EXIT
trap 'exit 130' INT TERM

setsid -w node dist/test/support/run-tests.js faults 8>&- 9>&- &
suite=$!
wait "$suite"
