#!/usr/bin/env bash
# Install the Debian packages the tests use, skipping those already installed. Runs
# `apt-get update` once, and only when something must be installed. Needs root.
# Services are not started by the packages where policy-rc.d forbids it (containers); the lab
# starts Prometheus & co. itself. Alertmanager's default port 9093 is Kafka's controller port here.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(kcat prometheus prometheus-node-exporter prometheus-alertmanager chromium)
APT_LOCK="${PANOPTES_APT_LOCK:-/tmp/apt.lock}"

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  say "debian: all installed (${PACKAGES[*]})"
  exit 0
fi
((EUID == 0)) || die "debian: must run as root to install ${missing[*]}"
say "debian: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# flock serialises with other apt users of this machine; the timeouts bound a dead mirror.
flock -w 600 "$APT_LOCK" timeout 600 apt-get update -q -o Acquire::Retries=2 -o Acquire::http::Timeout=30 >/dev/null ||
  die "debian: apt-get update failed"
flock -w 600 "$APT_LOCK" timeout 900 apt-get install -y -q --no-install-recommends \
  -o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null ||
  die "debian: apt-get install ${missing[*]} failed"
for p in "${missing[@]}"; do
  installed "$p" || die "debian: $p is still not installed"
done
say "debian: installed ${missing[*]}"
