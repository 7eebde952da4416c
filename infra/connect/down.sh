#!/usr/bin/env bash
# Stop the Kafka Connect worker that up.sh started (by its recorded pid). Harmless when it is not
# running. Connector configs and sink offsets live in Kafka and survive; the next up.sh resumes.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/connect/env.sh"

take_lock connect
stop_pidfile "$CONNECT_PIDFILE" "$CONNECT_MARKER" "${PANOPTES_CONNECT_STOP_TIMEOUT:-30}" connect
