# Settings shared by the Kafka scripts (sourced after ../lib.sh). Every one can be overridden
# from the environment; see infra/README.md.
KAFKA_VERSION="${PANOPTES_KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${PANOPTES_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${PANOPTES_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${PANOPTES_KAFKA_HEAP:-512m}"
KAFKA_READY_TIMEOUT_S="${PANOPTES_KAFKA_READY_TIMEOUT:-120}"
KAFKA_HOST=127.0.0.1
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"
KAFKA_READY_TOPIC=__panoptes_ready

KAFKA_SRC="$INFRA_DIR/kafka"
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_RUN="$RUN_DIR/kafka"
KAFKA_DATA="$KAFKA_RUN/data"
KAFKA_PROPS="$KAFKA_RUN/server.properties"
KAFKA_PIDFILE="$KAFKA_RUN/kafka.pid"
KAFKA_OUT="$KAFKA_RUN/kafka.out"
KAFKA_LOG="$KAFKA_RUN/server.log"
# The broker's command line contains this path; it tells our broker from a recycled pid.
KAFKA_MARKER="$KAFKA_PROPS"
