#!/usr/bin/env bash
# Start Alertmanager (Debian's package) on 127.0.0.1:19093 with a fresh temporary storage folder
# and clustering off, and wait until /-/ready answers 200. Idempotent: does nothing if ours is
# already up. Prints the base URL on stdout when ready. Config: infra/alertmanager/alertmanager.yml
# (or PANOPTES_ALERTMANAGER_CONFIG).
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/alertmanager/env.sh"

take_lock "alertmanager-$ALERTMANAGER_PORT" 120
[ -x "$ALERTMANAGER_BIN" ] || die "alertmanager: $ALERTMANAGER_BIN not found (bash infra/debian.sh installs prometheus-alertmanager)"
CONFIG="${PANOPTES_ALERTMANAGER_CONFIG:-$INFRA_DIR/alertmanager/alertmanager.yml}"

ready() {
  [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$ALERTMANAGER_URL/-/ready" 2>/dev/null)" = 200 ]
}

if pid=$(live_pid "$ALERTMANAGER_PIDFILE" "$ALERTMANAGER_MARKER") && ready; then
  say "alertmanager: already running (pid $pid) on $ALERTMANAGER_URL" >&2
  echo "$ALERTMANAGER_URL"
  exit 0
fi
if port_open "$ALERTMANAGER_HOST" "$ALERTMANAGER_PORT"; then
  die "alertmanager: port $ALERTMANAGER_PORT is taken by another process (set PANOPTES_ALERTMANAGER_PORT)"
fi

mkdir -p "$ALERTMANAGER_RUN"
# Fresh storage on every start: silences and notification log from an earlier run must not leak
# into this one. The folder is removed by down.sh.
rm -rf "$ALERTMANAGER_RUN"/data.*
DATA=$(mktemp -d "$ALERTMANAGER_RUN/data.XXXXXX")
say "alertmanager: starting on $ALERTMANAGER_URL (storage $DATA)" >&2
start_detached "$ALERTMANAGER_PIDFILE" "$ALERTMANAGER_LOG" \
  "$ALERTMANAGER_BIN" --config.file="$CONFIG" --storage.path="$DATA" \
  "$ALERTMANAGER_MARKER" --cluster.listen-address= --log.level=warn
pid=$(cat "$ALERTMANAGER_PIDFILE")
set +e
wait_until "$ALERTMANAGER_READY_TIMEOUT_S" "$pid" ready
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  log_tail 30 "$ALERTMANAGER_LOG"
  stop_pidfile "$ALERTMANAGER_PIDFILE" "$ALERTMANAGER_MARKER" 5 alertmanager >&2
  die "alertmanager: not ready after ${ALERTMANAGER_READY_TIMEOUT_S}s (rc $rc)"
fi
say "alertmanager: ready (pid $pid)" >&2
echo "$ALERTMANAGER_URL"
