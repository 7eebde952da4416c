#!/usr/bin/env bash
# Stop the schema registry that up.sh started (by its recorded pid). Harmless when it is not
# running. Its storage is in memory: registered schemas are gone after this.
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/registry/env.sh"

take_lock registry
stop_pidfile "$REGISTRY_PIDFILE" "$REGISTRY_MARKER" "${PANOPTES_REGISTRY_STOP_TIMEOUT:-20}" registry
