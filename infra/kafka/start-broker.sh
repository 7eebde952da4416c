#!/usr/bin/env bash
# start-broker.sh N: start node N of the three-node cluster again (after stop-broker.sh N) and wait
# until it is back: registered, and a replica in sync for every partition it holds (so a rolling
# restart can take the next node down safely). Idempotent: a running node is only checked.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"
# shellcheck source=tools.sh
source "$INFRA_DIR/kafka/tools.sh"
# shellcheck source=cluster-env.sh
source "$INFRA_DIR/kafka/cluster-env.sh"

check_node_arg "${1:-}"
n=$1
[ $# -le 1 ] || { echo "[infra] ERROR: usage: start-broker.sh N" >&2; exit 2; }
take_lock kafka-cluster 900 "$CLUSTER_RUN"
JAVA=$(find_java 17) || die "kafka: no Java 17+ found (apt-get install openjdk-17-jre-headless)"
[ -s "$CLUSTER_RUN/cluster.id" ] || die "kafka node $n: no cluster under $CLUSTER_RUN; start it with infra/kafka/cluster-up.sh (or npm run infra:up -- --brokers 3)"

started=0
if pid=$(live_pid "$(node_pidfile "$n")" "$(node_marker "$n")"); then
  say "kafka node $n: already running (pid $pid)"
else
  rm -f "$(node_pidfile "$n")"
  check_node_ports_free "$n"
  ensure_libs
  write_node_config "$n"
  format_node_once "$n"
  start_node "$n"
  started=1
  pid=$(cat "$(node_pidfile "$n")")
fi

back() { node_started "$n" && port_open "$KAFKA_HOST" "$(node_port "$n")" && node_in_sync "$n"; }
: >"$CLUSTER_RUN/ready.out"
t0=$SECONDS
rc=0
wait_until "$CLUSTER_READY_TIMEOUT_S" "$pid" back || rc=$?
if ((rc != 0)); then
  if ((rc == 2)); then
    echo "[infra] kafka node $n: the process (pid $pid) exited during start-up" >&2
  else
    echo "[infra] kafka node $n: not in sync after ${CLUSTER_READY_TIMEOUT_S}s" >&2
  fi
  log_tail 30 "$(node_dir "$n")/kafka.out" "$(node_dir "$n")/server.log" "$CLUSTER_RUN/ready.out"
  ((started)) && stop_pidfile "$(node_pidfile "$n")" "$(node_marker "$n")" 20 "kafka node $n"
  die "kafka node $n: start-up failed"
fi
say "kafka node $n: in sync on $KAFKA_HOST:$(node_port "$n") (pid $pid, $((SECONDS - t0))s to in sync)"
