#!/usr/bin/env bash
# Stop the three-node cluster and wipe its data (topics, offsets, cluster id). The download cache is
# kept; the next cluster-up.sh formats fresh storage.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/cluster-down.sh"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"
# shellcheck source=cluster-env.sh
source "$INFRA_DIR/kafka/cluster-env.sh"
[ -d "$CLUSTER_RUN" ] || exit 0
take_lock kafka-cluster 900 "$CLUSTER_RUN"
for ((n = 1; n <= CLUSTER_SIZE; n++)); do rm -rf "$(node_dir "$n")/data"; done
rm -f "$CLUSTER_RUN/cluster.id"
say "kafka cluster: data wiped ($CLUSTER_RUN/node*/data)"
