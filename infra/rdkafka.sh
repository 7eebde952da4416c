#!/usr/bin/env bash
# Makes @confluentinc/kafka-javascript (librdkafka, used with kafkaClient=librdkafka) loadable.
# Its install script builds librdkafka from the sources shipped inside the package; with
# CKJS_LINKING=dynamic it links the system's ssl/zlib/zstd/lz4/sasl libraries and downloads
# nothing (without it the script tries to download them, and a prebuilt binary, and fails here).
# So a fresh machine runs, in this order:
#   bash infra/rdkafka.sh --deps-only          # Debian build dependencies
#   CKJS_LINKING=dynamic npm ci                # builds the module (a few minutes)
#   bash infra/rdkafka.sh                      # checks it loads; builds it if npm did not
# It is an optional dependency, so a plain `npm ci` still succeeds (leaving it out); this script
# then installs and builds it.
# Idempotent: exits at once when the module loads. Otherwise installs the build dependencies if
# missing (librdkafka-dev pulls in the ssl/zlib/zstd/lz4/sasl headers; g++, make) and rebuilds the
# module with `npm rebuild`. Bounded in time (PANOPTES_RDKAFKA_BUILD_TIMEOUT, default 1200 s).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(cd "$INFRA_DIR/.." && pwd)"
PKG=@confluentinc/kafka-javascript
PKG_DIR="$ROOT/node_modules/$PKG"
APT_LOCK="${PANOPTES_APT_LOCK:-/tmp/apt.lock}"
NPM_LOCK="${PANOPTES_NPM_LOCK:-/tmp/npm.lock}"
BUILD_TIMEOUT_S="${PANOPTES_RDKAFKA_BUILD_TIMEOUT:-1200}"
LOG="$RUN_DIR/rdkafka-build.log"

loads() {
  (cd "$ROOT" && node -e "require('$PKG')" >/dev/null 2>&1)
}

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

DEPS_ONLY=false
case "${1:-}" in
  --deps-only) DEPS_ONLY=true ;;
  '') ;;
  *) die "rdkafka: usage: bash infra/rdkafka.sh [--deps-only]" ;;
esac

install_deps() {
  local missing=() p
  for p in librdkafka-dev g++ make; do
    installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    ((EUID == 0)) || die "rdkafka: must run as root to install ${missing[*]}"
    say "rdkafka: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
      flock -w 600 "$APT_LOCK" timeout 900 apt-get install -y -q --no-install-recommends \
        -o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null 2>&1
    }
    if ! apt_install; then
      # A fresh machine's package lists may be empty or stale.
      flock -w 600 "$APT_LOCK" timeout 600 apt-get update -q -o Acquire::Retries=2 -o Acquire::http::Timeout=30 >/dev/null ||
        die "rdkafka: apt-get update failed"
      apt_install || die "rdkafka: apt-get install ${missing[*]} failed"
    fi
  fi
  command -v python3 >/dev/null || die "rdkafka: node-gyp needs python3 on PATH"
}

if $DEPS_ONLY; then
  install_deps
  say "rdkafka: build dependencies present (librdkafka-dev g++ make python3)"
  exit 0
fi
if loads; then
  say "rdkafka: $PKG loads ($(cd "$ROOT" && node -p "require('$PKG').librdkafkaVersion" 2>/dev/null || echo '?'))"
  exit 0
fi
[ -d "$ROOT/node_modules" ] || die "rdkafka: $ROOT/node_modules is missing: run CKJS_LINKING=dynamic npm ci first"

take_lock rdkafka 1800
# Another caller may have built it while we waited for the lock.
if loads; then
  say "rdkafka: $PKG loads (built by a concurrent call)"
  exit 0
fi
install_deps

say "rdkafka: building $PKG from source (a few minutes; log: $LOG)"
start=$(date +%s)
: >"$LOG"
# Reached when npm skipped the install script (--ignore-scripts) or ran it without
# CKJS_LINKING=dynamic (then it failed, and npm left the optional package out); flock keeps
# concurrent npm runs on this machine from clashing.
if [ -d "$PKG_DIR" ]; then
  build=(npm rebuild "$PKG" --build-from-source --foreground-scripts)
else
  # It is an optional dependency: a plain `npm ci` whose build failed left it out. Same version
  # as the lock file; --no-save leaves package.json and the lock file as they are.
  version=$(cd "$ROOT" && node -p "require('./package-lock.json').packages['node_modules/$PKG'].version") ||
    die "rdkafka: $PKG is not in package-lock.json"
  build=(npm install --no-save --no-audit --no-fund --foreground-scripts "$PKG@$version")
fi
if ! (cd "$ROOT" && CKJS_LINKING=dynamic flock -w 900 "$NPM_LOCK" timeout "$BUILD_TIMEOUT_S" "${build[@]}" >>"$LOG" 2>&1); then
  tail -n 30 "$LOG" >&2
  die "rdkafka: building $PKG failed or took over ${BUILD_TIMEOUT_S}s (PANOPTES_RDKAFKA_BUILD_TIMEOUT); full log: $LOG"
fi
if ! loads; then
  tail -n 30 "$LOG" >&2
  (cd "$ROOT" && node -e "require('$PKG')") >&2 || true
  die "rdkafka: the build finished but $PKG still does not load; full log: $LOG"
fi
say "rdkafka: built $PKG in $(($(date +%s) - start))s ($(cd "$ROOT" && node -p "require('$PKG').librdkafkaVersion"))"
