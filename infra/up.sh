#!/usr/bin/env bash
# Start the real servers Panoptes runs on: Kafka, then the schema registry (127.0.0.1:8081).
# Idempotent; each waits for readiness. First run downloads into infra/.cache.
#   bash infra/up.sh               one broker on 127.0.0.1:9092 (infra/kafka/up.sh)
#   bash infra/up.sh --brokers 3   three brokers on 127.0.0.1:9092, :9192, :9292 (infra/kafka/cluster-up.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
brokers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers=${2:-}; shift 2 || shift ;;
    --brokers=*) brokers=${1#--brokers=}; shift ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "[infra] ERROR: unknown argument '$1' (usage: infra/up.sh [--brokers 1|3])" >&2; exit 2 ;;
  esac
done
case "$brokers" in
  1) bash "$here/kafka/up.sh" ;;
  3) bash "$here/kafka/cluster-up.sh" ;;
  *) echo "[infra] ERROR: --brokers must be 1 or 3, got '$brokers'" >&2; exit 2 ;;
esac
bash "$here/registry/up.sh"
