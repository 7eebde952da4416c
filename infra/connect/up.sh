#!/usr/bin/env bash
# Start a Kafka Connect worker (distributed mode, one node) with its REST API on 127.0.0.1:18083,
# its config/offset/status topics on the local Kafka, and three plugins: Debezium's JDBC sink
# (with the PostgreSQL driver), Apicurio's AvroConverter (reads Confluent-framed Avro) and
# Panoptes' JsonFields transformation. Waits until GET /health answers 200 and the sink is
# listed. Idempotent: does nothing if our worker is already up. First run downloads the worker
# and the plugins with mvn into infra/.cache and compiles JsonFields (javac, a few seconds).
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=env.sh
source "$INFRA_DIR/connect/env.sh"

take_lock connect

JAVA=$(find_java 17) || die "connect: no Java 17+ found (apt-get install openjdk-17-jdk-headless)"

# copy_deps NAME POM DEST [mvn args...]: the runtime dependencies of POM into DEST, through a
# temporary folder moved into place only when complete (an interrupted run leaves no half cache).
copy_deps() {
  local name=$1 pom=$2 dest=$3; shift 3
  [ -f "$dest/.complete" ] && return 0
  say "connect: downloading $name with mvn (first run only)"
  local tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$dest")"
  if ! mvn_bounded "$dest.mvn.log" -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" "$@"; then
    rm -rf "$tmp"
    die "connect: mvn could not obtain $name (see output above)"
  fi
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

# Kafka's own modules and SLF4J come from the worker: a second copy inside a plugin folder would
# be shadowed at best. The JDBC drivers of other databases are left out (~20 MB less to scan).
# Debezium's Jackson too: the worker's Jackson (same 2.21 line) registers Blackbird as a service,
# and a plugin-local jackson-databind that finds that registration through the parent class
# loader fails with "BlackbirdModule not a subtype" when Hibernate loads its JSON support.
JDBC_EXCLUDES=(-DexcludeGroupIds=org.apache.kafka,org.slf4j,com.fasterxml.jackson.core,com.mysql,org.mariadb.jdbc,com.microsoft.sqlserver,com.oracle.database.jdbc)
APICURIO_EXCLUDES=(-DexcludeGroupIds=org.apache.kafka,org.slf4j)

ensure_downloads() {
  copy_deps "Kafka Connect $CONNECT_KAFKA_VERSION" "$CONNECT_SRC/pom.xml" "$CONNECT_LIBS" \
    -Dkafka.version="$CONNECT_KAFKA_VERSION"
  copy_deps "Debezium JDBC sink $CONNECT_DEBEZIUM_VERSION" "$CONNECT_SRC/plugins/debezium-jdbc/pom.xml" \
    "$CONNECT_PLUGIN_JDBC" -Ddebezium.version="$CONNECT_DEBEZIUM_VERSION" "${JDBC_EXCLUDES[@]}"
  copy_deps "Apicurio converter $CONNECT_APICURIO_VERSION" "$CONNECT_SRC/plugins/apicurio-converter/pom.xml" \
    "$CONNECT_PLUGIN_APICURIO" -Dapicurio.version="$CONNECT_APICURIO_VERSION" "${APICURIO_EXCLUDES[@]}"
}

# Apicurio's converter jar has no ServiceLoader manifest, and the worker finds plugins through
# manifests only (plugin.discovery=service_load, so that a start does not load and inspect every
# class of ~90 MB of plugin jars on a 2-core machine). A one-file jar beside it supplies it.
ensure_apicurio_manifest() {
  local jar="$CONNECT_PLUGIN_APICURIO/panoptes-service-manifest.jar"
  [ -f "$jar" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/META-INF/services"
  echo io.apicurio.registry.utils.converter.AvroConverter >"$tmp/META-INF/services/org.apache.kafka.connect.storage.Converter"
  jar_tool cf "$jar.tmp" -C "$tmp" META-INF
  mv "$jar.tmp" "$jar"
  rm -rf "$tmp"
}

jar_tool() {
  local jar
  jar="$(dirname "$JAVAC")/jar"
  "$jar" "$@"
}

# JsonFields is compiled here, not downloaded: a folder named for the source's checksum, so an
# edit of the source gets a fresh build and the old one is left unused.
ensure_smt() {
  local src="$CONNECT_SRC/plugins/panoptes-smt/src" sum dest tmp
  sum=$(cat "$src/io/panoptes/connect/JsonFields.java" "$src/META-INF/services/"* | cksum | cut -d' ' -f1)
  dest="$CONNECT_PLUGINS/panoptes-smt-$sum"
  CONNECT_PLUGIN_SMT="$dest"
  [ -f "$dest/.complete" ] && return 0
  say "connect: compiling the JsonFields transformation"
  tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/classes"
  "$JAVAC" --release 17 -nowarn -cp "$CONNECT_LIBS/*" -d "$tmp/classes" "$src/io/panoptes/connect/JsonFields.java" \
    >"$tmp/javac.out" 2>&1 || { log_tail 30 "$tmp/javac.out"; rm -rf "$tmp"; die "connect: javac failed on JsonFields.java"; }
  cp -r "$src/META-INF" "$tmp/classes/"
  jar_tool cf "$tmp/panoptes-connect-smt.jar" -C "$tmp/classes" .
  rm -rf "$tmp/classes" "$tmp/javac.out"
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

# plugin.path names folders whose *subfolders* are plugins (one class loader each): link the
# versioned cache folders in under stable names.
link_plugins() {
  rm -rf "$CONNECT_RUN/plugins"
  mkdir -p "$CONNECT_RUN/plugins"
  ln -s "$CONNECT_PLUGIN_JDBC" "$CONNECT_RUN/plugins/debezium-jdbc"
  ln -s "$CONNECT_PLUGIN_APICURIO" "$CONNECT_RUN/plugins/apicurio-converter"
  ln -s "$CONNECT_PLUGIN_SMT" "$CONNECT_RUN/plugins/panoptes-smt"
}

write_config() {
  mkdir -p "$CONNECT_RUN"
  link_plugins
  cat >"$CONNECT_PROPS" <<PROPS
# Generated by infra/connect/up.sh on every start; edit that script, not this file.
bootstrap.servers=$CONNECT_BOOTSTRAP
group.id=$CONNECT_GROUP
# Connector configs name their own converters; these are only the defaults.
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=true
config.storage.topic=__$CONNECT_GROUP-configs
offset.storage.topic=__$CONNECT_GROUP-offsets
status.storage.topic=__$CONNECT_GROUP-status
# One broker: the internal topics cannot have more replicas than that.
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=5
status.storage.partitions=1
listeners=http://$CONNECT_HOST:$CONNECT_PORT
rest.advertised.host.name=$CONNECT_HOST
rest.advertised.port=$CONNECT_PORT
plugin.path=$CONNECT_RUN/plugins
plugin.discovery=service_load
# Sink tasks commit their consumer offsets this often: records written since the last commit are
# delivered again after a crash, which the sink's upsert makes harmless.
offset.flush.interval.ms=2000
# One worker: a restarted worker takes its connectors back at once instead of after the default
# five-minute grace period for a member that left.
scheduled.rebalance.max.delay.ms=0
task.shutdown.graceful.timeout.ms=5000
PROPS
}

start_worker() {
  local cds
  mapfile -t cds < <(cds_opts "$JAVA" "$(dirname "$CONNECT_LIBS")/connect-cds")
  say "connect: starting the worker, REST on $CONNECT_URL, Kafka $CONNECT_BOOTSTRAP"
  [ ! -f "$CONNECT_LOG" ] || mv -f "$CONNECT_LOG" "$CONNECT_LOG.prev"
  start_detached "$CONNECT_PIDFILE" "$CONNECT_OUT" \
    "$JAVA" -Xmx"$CONNECT_HEAP" -Xms128m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError "${cds[@]}" \
    -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dpanoptes.connect.logs.dir="$CONNECT_RUN" -Dlog4j2.configurationFile="$CONNECT_SRC/log4j2.xml" \
    -Dpanoptes.log.level="${PANOPTES_CONNECT_LOG_LEVEL:-INFO}" \
    -cp "$CONNECT_LIBS/*" org.apache.kafka.connect.cli.ConnectDistributed "$CONNECT_PROPS"
}

# Ready = the worker joined its group (GET /health is 200 only then) and lists the JDBC sink.
worker_ready() {
  local code
  code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$CONNECT_URL/health" 2>/dev/null) || return 1
  [ "$code" = 200 ] || return 1
  curl -sf --max-time 5 "$CONNECT_URL/connector-plugins" 2>/dev/null | grep -q 'io.debezium.connector.jdbc.JdbcSinkConnector'
}

JAVAC="$(dirname "$(readlink -f "$JAVA")")/javac"
if [ ! -x "$JAVAC" ]; then
  JAVAC=$(command -v javac) || die "connect: no javac beside $JAVA nor on PATH (a JDK is needed to build JsonFields)"
fi

if pid=$(live_pid "$CONNECT_PIDFILE" "$CONNECT_MARKER"); then
  if worker_ready; then
    say "connect: already running (pid $pid) on $CONNECT_URL"
    exit 0
  fi
  say "connect: pid $pid is alive but not ready yet; waiting for it"
else
  rm -f "$CONNECT_PIDFILE"
  if port_open "$CONNECT_HOST" "$CONNECT_PORT"; then
    die "connect: $CONNECT_HOST:$CONNECT_PORT is in use by a process these scripts did not start; stop it or set PANOPTES_CONNECT_PORT"
  fi
  # The worker keeps its state in Kafka: start ours if nobody runs one (idempotent otherwise).
  if ! port_open "${CONNECT_BOOTSTRAP%:*}" "${CONNECT_BOOTSTRAP##*:}"; then
    bash "$INFRA_DIR/kafka/up.sh"
  fi
  ensure_downloads
  ensure_apicurio_manifest
  ensure_smt
  write_config
  start_worker
  pid=$(cat "$CONNECT_PIDFILE")
fi

t0=$SECONDS
rc=0
wait_until "$CONNECT_READY_TIMEOUT_S" "$pid" worker_ready || rc=$?
if ((rc != 0)); then
  if ((rc == 2)); then
    echo "[infra] connect: the worker process (pid $pid) exited during start-up" >&2
  else
    echo "[infra] connect: not ready after ${CONNECT_READY_TIMEOUT_S}s ($CONNECT_URL/health)" >&2
  fi
  log_tail 40 "$CONNECT_OUT" "$CONNECT_LOG"
  stop_pidfile "$CONNECT_PIDFILE" "$CONNECT_MARKER" 20 connect
  die "connect: start-up failed"
fi
say "connect: ready on $CONNECT_URL (pid $pid, ${SECONDS}s total, $((SECONDS - t0))s to ready)"
