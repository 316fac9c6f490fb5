#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ (and Redis, optional) run on this machine: starts them when
# installed but stopped, installs them with apt when missing. Idempotent; quiet when all is up.
set -euo pipefail

log() { echo "[services] $*" >&2; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port name seconds
  for _ in $(seq 1 "$3"); do port_open "$1" && return 0; sleep 1; done
  log "$2 did not come up on port $1"; return 1
}

apt_install() {
  log "installing $* with apt"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL
if ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 PostgreSQL 60
fi

# RabbitMQ
if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  log "starting RabbitMQ"
  # Quorum queues hold file handles; the usual 1,024 descriptors run out with a few hundred of
  # them and the broker then stops accepting connections. Raise the soft limit as far as allowed.
  if [ "$(id -u)" -eq 0 ] && id rabbitmq >/dev/null 2>&1 && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    su rabbitmq -s /bin/sh -c 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; cd /var/lib/rabbitmq && /usr/lib/rabbitmq/bin/rabbitmq-server -detached' || true
  else
    sudo_if_needed rabbitmq-server -detached || true
  fi
  wait_port 5672 RabbitMQ 120
fi
# The port opens a moment before the broker accepts AMQP; wait for it to be fully booted.
if command -v rabbitmqctl >/dev/null; then
  sudo_if_needed rabbitmqctl await_startup --timeout 120 >/dev/null 2>&1 || true
fi

# Chromium for the dashboard's browser test (driven by playwright-core; never downloaded by it)
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || log "chromium could not be installed: the dashboard browser test will fail"
fi

# libfaketime: the fault suite steps one app's clock (Debian's faketime; a library, no service)
if [ ! -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] && command -v apt-get >/dev/null; then
  apt_install faketime || log "faketime could not be installed: the fault suite's clock scenario will fail"
fi

# pg_stat_statements, for the bench's statements per transfer: asked for here, loaded from
# PostgreSQL's next start on (the fault suite restarts it). Only when nothing else is preloaded
# and the library is installed (a missing one would keep PostgreSQL from starting).
if command -v psql >/dev/null && ls /usr/lib/postgresql/*/lib/pg_stat_statements.so >/dev/null 2>&1; then
  asked=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
    "SELECT coalesce((SELECT setting FROM pg_file_settings WHERE name = 'shared_preload_libraries' AND applied IS NOT NULL ORDER BY seqno DESC LIMIT 1), current_setting('shared_preload_libraries'))" \
    2>/dev/null || echo unknown)
  if [ -z "$asked" ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc \
      "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null 2>&1 || true
  fi
fi

# Redis (optional: shared rate-limit state)
if ! port_open 6379 && command -v redis-server >/dev/null; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null || true
fi
exit 0
