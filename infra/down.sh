#!/usr/bin/env bash
# Stop the servers infra/up.sh started (registry first, then Kafka: the single broker and the
# three-broker cluster, whichever runs), and a Kafka Connect worker infra/connect/up.sh started
# (before Kafka, which keeps its state). Harmless when they are down. Each is stopped even if
# stopping another fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
bash "$here/connect/down.sh" || rc=$?
bash "$here/registry/down.sh" || rc=$?
bash "$here/kafka/down.sh" || rc=$?
bash "$here/kafka/cluster-down.sh" || rc=$?
exit "$rc"
