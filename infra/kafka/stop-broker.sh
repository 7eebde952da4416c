#!/usr/bin/env bash
# stop-broker.sh N [--graceful]: kill -9 node N of the three-node cluster (a crash: no controlled
# shutdown, leaders move once the controller fences it, after broker.session.timeout.ms). With
# --graceful: TERM and wait (controlled shutdown: leaders move first), as in a rolling restart.
# Harmless when the node is not running. Data is kept; start-broker.sh N brings it back.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"
# shellcheck source=cluster-env.sh
source "$INFRA_DIR/kafka/cluster-env.sh"

check_node_arg "${1:-}"
n=$1
graceful=0
case "${2:-}" in
  "") ;;
  --graceful) graceful=1 ;;
  *) echo "[infra] ERROR: usage: stop-broker.sh N [--graceful] (got '$2')" >&2; exit 2 ;;
esac
take_lock kafka-cluster 900 "$CLUSTER_RUN"
if ((graceful)); then
  stop_pidfile "$(node_pidfile "$n")" "$(node_marker "$n")" "$CLUSTER_STOP_TIMEOUT_S" "kafka node $n"
  exit 0
fi
if ! pid=$(live_pid "$(node_pidfile "$n")" "$(node_marker "$n")"); then
  rm -f "$(node_pidfile "$n")"
  say "kafka node $n: not running"
  exit 0
fi
kill -KILL "$pid" 2>/dev/null || true
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "kafka node $n: pid $pid still alive 10 s after KILL"
rm -f "$(node_pidfile "$n")"
say "kafka node $n: killed (pid $pid, SIGKILL)"
