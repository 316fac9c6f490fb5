#!/usr/bin/env bash
# Installs dependencies when node_modules is missing or older than the lockfile, then builds.
# A node_modules that is a symlink (a git worktree sharing another checkout's install) belongs to
# that checkout: `npm ci` here would replace the link and could empty the shared directory.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -L node_modules ]; then
  if [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "[deps] node_modules is shared (a symlink): not reinstalling it from this checkout" >&2
  fi
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
