#!/usr/bin/env bash
# Quick start: local services, dependencies, build, database + migrations, then all four apps
# with prefixed logs. Ctrl-C stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
bash scripts/ensure-deps.sh
npm run --silent migrate
exec npm run --silent start:all
