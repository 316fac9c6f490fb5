#!/usr/bin/env bash
# promtool (the alerting rules' unit tests, test/unit/deploy) from Debian's prometheus package.
# Only the binary is unpacked into /usr/local/bin: installing the package would also start a
# Prometheus server on this machine, which the tests do not want.
set -euo pipefail
command -v promtool >/dev/null && exit 0
log() { echo "[promtool] $*" >&2; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
log "unpacking promtool from Debian's prometheus package"
(cd "$dir" && { apt-get download prometheus >/dev/null 2>&1 ||
  { sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get download prometheus >/dev/null; }; })
dpkg-deb -x "$dir"/prometheus_*.deb "$dir/root"
sudo_if_needed install -m 0755 "$dir/root/usr/bin/promtool" /usr/local/bin/promtool
promtool --version >/dev/null
