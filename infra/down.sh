#!/usr/bin/env bash
# Stop the servers infra/up.sh started (registry first, then Kafka). Harmless when they are down.
# Both are stopped even if stopping one fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
bash "$here/registry/down.sh" || rc=$?
bash "$here/kafka/down.sh" || rc=$?
exit "$rc"
