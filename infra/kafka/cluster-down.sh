#!/usr/bin/env bash
# Stop the three-node cluster that cluster-up.sh started (each node by its recorded pid).
# Harmless when it is not running. Data under infra/.run/kafka-cluster is kept; cluster-reset.sh
# wipes it. All nodes get TERM at once: stopped one after the other, the last ones would wait for
# a controller quorum that is already gone.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"
# shellcheck source=cluster-env.sh
source "$INFRA_DIR/kafka/cluster-env.sh"

[ -d "$CLUSTER_RUN" ] || { say "kafka cluster: not running"; exit 0; }
take_lock kafka-cluster 900 "$CLUSTER_RUN"
for ((n = 1; n <= CLUSTER_SIZE; n++)); do
  stop_pidfile "$(node_pidfile "$n")" "$(node_marker "$n")" "$CLUSTER_STOP_TIMEOUT_S" "kafka node $n" &
done
wait
