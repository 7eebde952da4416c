#!/usr/bin/env bash
# Start the real servers Panoptes runs on: Kafka (127.0.0.1:9092), then the schema registry
# (127.0.0.1:8081). Idempotent; each waits for readiness. First run downloads into infra/.cache.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/kafka/up.sh"
bash "$here/registry/up.sh"
