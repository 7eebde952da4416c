#!/usr/bin/env bash
# Start a three-node KRaft Kafka cluster (each node broker + controller) on 127.0.0.1:9092, :9192
# and :9292 (controllers on :9093, :9193, :9293) and wait until it is ready: all three brokers
# registered and every partition's replicas in sync. Idempotent: nodes already running are left
# alone, missing ones are started. First run downloads Kafka into infra/.cache and formats each
# node's storage under infra/.run/kafka-cluster/nodeN. Ports and paths: cluster-env.sh.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/kafka/env.sh"
# shellcheck source=tools.sh
source "$INFRA_DIR/kafka/tools.sh"
# shellcheck source=cluster-env.sh
source "$INFRA_DIR/kafka/cluster-env.sh"

take_lock kafka-cluster 900 "$CLUSTER_RUN"
JAVA=$(find_java 17) || die "kafka: no Java 17+ found (apt-get install openjdk-17-jre-headless)"

started=()
pids=()
for ((n = 1; n <= CLUSTER_SIZE; n++)); do
  if pid=$(live_pid "$(node_pidfile "$n")" "$(node_marker "$n")"); then
    say "kafka node $n: already running (pid $pid) on $KAFKA_HOST:$(node_port "$n")"
    pids+=("$pid")
    continue
  fi
  rm -f "$(node_pidfile "$n")"
  check_node_ports_free "$n"
done
ensure_libs
cluster_id >/dev/null # before the parallel formats, which all read it
formats=()
for ((n = 1; n <= CLUSTER_SIZE; n++)); do
  live_pid "$(node_pidfile "$n")" "$(node_marker "$n")" >/dev/null && continue
  write_node_config "$n"
  format_node_once "$n" &
  formats+=($!)
done
# A failed format already printed its reason; stop here before starting anything.
for f in "${formats[@]}"; do wait "$f" || die "kafka cluster: storage format failed"; done
for ((n = 1; n <= CLUSTER_SIZE; n++)); do
  live_pid "$(node_pidfile "$n")" "$(node_marker "$n")" >/dev/null && continue
  start_node "$n"
  started+=("$n")
  pids+=("$(cat "$(node_pidfile "$n")")")
done

# All started nodes must stay alive while we wait; any that dies fails the start-up.
all_alive() {
  local n
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do live_pid "$(node_pidfile "$n")" "$(node_marker "$n")" >/dev/null || return 1; done
}
ready() {
  local n
  all_alive || return 2
  for n in "${started[@]}"; do node_started "$n" || return 1; done
  cluster_topic_ready && node_in_sync
}

: >"$CLUSTER_RUN/ready.out"
t0=$SECONDS
deadline=$((SECONDS + CLUSTER_READY_TIMEOUT_S))
rc=1
while ((SECONDS < deadline)); do
  r=0
  ready || r=$?
  if ((r == 0)); then rc=0; break; fi
  if ((r == 2)); then rc=2; break; fi
  sleep 1
done
if ((rc != 0)); then
  if ((rc == 2)); then
    echo "[infra] kafka cluster: a node exited during start-up" >&2
  else
    echo "[infra] kafka cluster: not ready after ${CLUSTER_READY_TIMEOUT_S}s (three brokers registered and in sync)" >&2
  fi
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do log_tail 20 "$(node_dir "$n")/kafka.out" "$(node_dir "$n")/server.log"; done
  log_tail 20 "$CLUSTER_RUN/ready.out"
  # Stop only the nodes this call started.
  for n in "${started[@]}"; do stop_pidfile "$(node_pidfile "$n")" "$(node_marker "$n")" 20 "kafka node $n"; done
  die "kafka cluster: start-up failed"
fi
say "kafka cluster: ready on $CLUSTER_BOOTSTRAP (started: ${started[*]:-none}; ${SECONDS}s total, $((SECONDS - t0))s to ready)"
