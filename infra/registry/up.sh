#!/usr/bin/env bash
# Start Apicurio Registry (Confluent-compatible API at /apis/ccompat/v7) on 127.0.0.1:8081 with
# in-memory storage, and wait until the subjects endpoint answers 200. Idempotent: does nothing if
# our registry is already up. First run downloads it from Maven Central into infra/.cache.
# Storage is in memory: schemas do not survive a restart (clients re-register on start).
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/registry/env.sh"

take_lock registry

JAVA=$(find_java 21) ||
  die "registry: Apicurio Registry $REGISTRY_VERSION needs Java 21+, none found (JAVA_HOME, PATH, /usr/lib/jvm)"

ensure_dist() {
  [ -f "$REGISTRY_HOME/.complete" ] && return 0
  local gav="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all"
  local tmp="$REGISTRY_HOME.tmp.$$"
  say "registry: downloading $gav with mvn (first run only)"
  rm -rf "$tmp"
  mkdir -p "$tmp/dist"
  if ! mvn_bounded "$tmp/mvn.log" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$gav" -DoutputDirectory="$tmp"; then
    rm -rf "$tmp"
    die "registry: mvn could not obtain $gav (see output above)"
  fi
  tar -xzf "$tmp/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz" -C "$tmp/dist" ||
    { rm -rf "$tmp"; die "registry: could not unpack the distribution"; }
  rm -f "$tmp/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
  [ -f "$tmp/dist/quarkus-run.jar" ] || { rm -rf "$tmp"; die "registry: the distribution has no quarkus-run.jar"; }
  touch "$tmp/.complete"
  rm -rf "$REGISTRY_HOME"
  mv "$tmp" "$REGISTRY_HOME"
}

# Start-up cost dominates here (tests start it, clients cache schemas): a class-data archive that
# the JVM writes on the first clean exit and C1-only compilation cut the CPU to readiness from
# ~12 s to ~5 s (measured on this 2-core machine).
start_registry() {
  local cds
  mapfile -t cds < <(cds_opts "$JAVA" "$REGISTRY_HOME/registry-cds")
  mkdir -p "$REGISTRY_RUN"
  say "registry: starting Apicurio Registry $REGISTRY_VERSION on $REGISTRY_URL"
  cd "$REGISTRY_RUN"
  start_detached "$REGISTRY_PIDFILE" "$REGISTRY_LOG" \
    "$JAVA" -Xmx"$REGISTRY_HEAP" -Xms64m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
    "${cds[@]}" -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true "$REGISTRY_MARKER" \
    -Dquarkus.http.host="$REGISTRY_HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host="$REGISTRY_HOST" -Dquarkus.management.port="$REGISTRY_MGMT_PORT" \
    -Dquarkus.http.access-log.enabled=false \
    -Dapicurio.ccompat.use-canonical-hash=true \
    -jar "$REGISTRY_HOME/dist/quarkus-run.jar"
}

subjects_ok() {
  local code
  code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$REGISTRY_URL$REGISTRY_READY_PATH" 2>/dev/null) || return 1
  [ "$code" = 200 ]
}

if pid=$(live_pid "$REGISTRY_PIDFILE" "$REGISTRY_MARKER"); then
  if subjects_ok; then
    say "registry: already running (pid $pid) on $REGISTRY_URL"
    exit 0
  fi
  say "registry: pid $pid is alive but not ready yet; waiting for it"
else
  rm -f "$REGISTRY_PIDFILE"
  if port_open "$REGISTRY_HOST" "$REGISTRY_PORT"; then
    die "registry: $REGISTRY_HOST:$REGISTRY_PORT is in use by a process these scripts did not start; stop it or set PANOPTES_REGISTRY_PORT"
  fi
  command -v curl >/dev/null || die "registry: curl is needed for the readiness check (apt-get install curl)"
  ensure_dist
  start_registry
  pid=$(cat "$REGISTRY_PIDFILE")
fi

t0=$SECONDS
rc=0
wait_until "$REGISTRY_READY_TIMEOUT_S" "$pid" subjects_ok || rc=$?
if ((rc != 0)); then
  if ((rc == 2)); then
    echo "[infra] registry: the registry process (pid $pid) exited during start-up" >&2
  else
    echo "[infra] registry: GET $REGISTRY_URL$REGISTRY_READY_PATH did not answer 200 within ${REGISTRY_READY_TIMEOUT_S}s" >&2
  fi
  log_tail 40 "$REGISTRY_LOG"
  stop_pidfile "$REGISTRY_PIDFILE" "$REGISTRY_MARKER" 20 registry
  die "registry: start-up failed"
fi
say "registry: ready on $REGISTRY_URL (pid $pid, ${SECONDS}s total, $((SECONDS - t0))s to ready)"
