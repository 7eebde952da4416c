#!/usr/bin/env bash
# Stop the Alertmanager up.sh started (by its recorded pid) and remove its temporary storage.
# Harmless when it is not running.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/alertmanager/env.sh"

take_lock "alertmanager-$ALERTMANAGER_PORT" 120
stop_pidfile "$ALERTMANAGER_PIDFILE" "$ALERTMANAGER_MARKER" 10 alertmanager >&2
rm -rf "$ALERTMANAGER_RUN"/data.*
