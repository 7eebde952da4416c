# Settings shared by the Kafka Connect scripts (sourced after ../lib.sh). Every one can be
# overridden from the environment; see infra/README.md and connectors/kafka-connect/README.md.
CONNECT_KAFKA_VERSION="${PANOPTES_CONNECT_KAFKA_VERSION:-${PANOPTES_KAFKA_VERSION:-4.4.0}}"
CONNECT_DEBEZIUM_VERSION="${PANOPTES_CONNECT_DEBEZIUM_VERSION:-3.6.0.Final}"
CONNECT_APICURIO_VERSION="${PANOPTES_CONNECT_APICURIO_VERSION:-2.6.13.Final}"
CONNECT_PORT="${PANOPTES_CONNECT_PORT:-18083}"
CONNECT_HEAP="${PANOPTES_CONNECT_HEAP:-512m}"
CONNECT_READY_TIMEOUT_S="${PANOPTES_CONNECT_READY_TIMEOUT:-120}"
CONNECT_BOOTSTRAP="${PANOPTES_CONNECT_BOOTSTRAP:-127.0.0.1:${PANOPTES_KAFKA_PORT:-9092}}"
CONNECT_GROUP="${PANOPTES_CONNECT_GROUP:-panoptes-connect}"
CONNECT_HOST=127.0.0.1
CONNECT_SRC="$INFRA_DIR/connect"
CONNECT_URL="http://$CONNECT_HOST:$CONNECT_PORT"

CONNECT_LIBS="$CACHE_DIR/connect-$CONNECT_KAFKA_VERSION/libs"
CONNECT_PLUGINS="$CACHE_DIR/connect-plugins"
# Plugin folders are named for their version and a checksum of their dependency list, so an edit
# of a pom.xml gets a fresh download instead of a stale cache.
_pom_sum() { cksum <"$CONNECT_SRC/plugins/$1/pom.xml" | cut -d' ' -f1; }
CONNECT_PLUGIN_JDBC="$CONNECT_PLUGINS/debezium-jdbc-$CONNECT_DEBEZIUM_VERSION-$(_pom_sum debezium-jdbc)"
CONNECT_PLUGIN_APICURIO="$CONNECT_PLUGINS/apicurio-converter-$CONNECT_APICURIO_VERSION-$(_pom_sum apicurio-converter)"
CONNECT_RUN="$RUN_DIR/connect"
CONNECT_PROPS="$CONNECT_RUN/worker.properties"
CONNECT_PIDFILE="$CONNECT_RUN/connect.pid"
CONNECT_OUT="$CONNECT_RUN/connect.out"
CONNECT_LOG="$CONNECT_RUN/connect.log"
# The worker's command line contains this path; it tells our worker from a recycled pid.
CONNECT_MARKER="$CONNECT_PROPS"
