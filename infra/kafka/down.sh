#!/usr/bin/env bash
# Stop the Kafka broker that up.sh started (by its recorded pid). Harmless when it is not running.
# Data under infra/.run/kafka/data is kept; reset.sh wipes it.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"

take_lock kafka
stop_pidfile "$KAFKA_PIDFILE" "$KAFKA_MARKER" "${PANOPTES_KAFKA_STOP_TIMEOUT:-30}" kafka
