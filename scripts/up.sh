#!/usr/bin/env bash
# Quick start: local services, dependencies, build, database + migrations, then all four apps
# with prefixed logs. Ctrl-C stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
npm run --silent migrate
# Rate-limit buckets shared by every replica when Redis runs here (as services.sh arranges).
if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"; fi
exec npm run --silent start:all
