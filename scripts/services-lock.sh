#!/usr/bin/env bash
# Holds the machine-wide services lock for a test run: `shared` while tests use PostgreSQL and
# RabbitMQ, `exclusive` while the fault-injection suite stops and restarts them. Test runs on this
# machine share the services, so the two must never overlap.
#   bash scripts/services-lock.sh shared|exclusive
# Prints "locked" once it holds the lock, and holds it until its stdin closes (the test process
# ended, however it ended) or it gets SIGUSR1 (the test process lets go). Released from exclusive,
# it first makes sure PostgreSQL and RabbitMQ run again. Ctrl-C and SIGTERM do not end it half-way:
# the test process's end closes its stdin.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
if [ "$mode" != shared ] && [ "$mode" != exclusive ]; then
  echo "usage: $0 shared|exclusive" >&2
  exit 64
fi
gate="${TMPDIR:-/tmp}/tally-services.gate"
lock="${TMPDIR:-/tmp}/tally-services.lock"
trap '' INT TERM

# Passing through the gate first queues a run behind an exclusive holder that is waiting for the
# lock (otherwise overlapping shared runs could keep it waiting for ever). The exclusive holder
# keeps the gate, so new runs wait until it is done.
exec 8>"$gate"
flock -x 8
exec 9>"$lock"
if [ "$mode" = shared ]; then
  flock -s 9
  exec 8>&-
elif ! flock -x -n 9; then
  echo "[faults] waiting for the test runs under way to release $lock" >&2
  flock -x 9
fi
echo locked

# Held until the input ends (a reader in the background sees it) or SIGUSR1 comes: a trapped
# signal interrupts `wait`. (A background command reads /dev/null unless told otherwise.)
cat <&0 >/dev/null 8>&- 9>&- &
reader=$!
trap 'kill "$reader" 2>/dev/null' USR1
wait "$reader" || true
kill "$reader" 2>/dev/null || true

if [ "$mode" = exclusive ]; then
  # Whatever the suite did, PostgreSQL and RabbitMQ run again before anyone else gets them. Nothing
  # started here may inherit the lock's descriptors (a server would hold the lock while it runs).
  rabbitmqctl start_app >/dev/null 2>&1 8>&- 9>&- </dev/null || true
  # A broker alarm the suite raised and did not clear: its thresholds as they were before.
  limits="${TMPDIR:-/tmp}/tally-broker-limits"
  if [ -f "$limits" ] && read -r memory disk <"$limits"; then
    rabbitmqctl set_vm_memory_high_watermark "$memory" >/dev/null 2>&1 8>&- 9>&- </dev/null || true
    rabbitmqctl set_disk_free_limit "$disk" >/dev/null 2>&1 8>&- 9>&- </dev/null || true
    rm -f "$limits"
  fi
  bash scripts/services.sh 8>&- 9>&- </dev/null >&2 || exit 1
fi
exit 0
