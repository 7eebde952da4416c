#!/usr/bin/env bash
# Stop Kafka and wipe its data (topics, offsets, cluster id). The download cache is kept; the next
# up.sh formats fresh storage.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"

take_lock kafka
stop_pidfile "$KAFKA_PIDFILE" "$KAFKA_MARKER" "${PANOPTES_KAFKA_STOP_TIMEOUT:-30}" kafka
rm -rf "$KAFKA_DATA" "$KAFKA_RUN/cluster.id"
say "kafka: data wiped ($KAFKA_DATA)"
