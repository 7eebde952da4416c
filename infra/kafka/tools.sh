# Kafka's jars and its command-line tools, shared by the single-broker scripts (up.sh) and the
# cluster scripts (cluster-up.sh, start-broker.sh). Sourced after ../lib.sh and env.sh; needs $JAVA.

# Downloads Kafka's jars into the cache once (bounded mvn run; moved into place only when complete).
ensure_libs() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  say "kafka: downloading Kafka $KAFKA_VERSION and dependencies with mvn (first run only)"
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  if ! mvn_bounded "$CACHE_DIR/kafka-$KAFKA_VERSION/mvn.log" -f "$KAFKA_SRC/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$tmp"; then
    rm -rf "$tmp"
    die "kafka: mvn could not obtain org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see output above)"
  fi
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

# Run a Kafka command-line tool (StorageTool, TopicCommand) with a small heap and quiet logging.
kafka_tool() {
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SRC/tools-log4j2.xml" -cp "$KAFKA_LIBS/*" "$@"
}
