# Settings shared by the schema registry scripts (sourced after ../lib.sh). Every one can be
# overridden from the environment; see infra/README.md.
#
# Version: Apicurio Registry 3.3.3, the newest version Maven Central served (2026-11) with the
# `all` tar.gz (a ready-to-run Quarkus fast-jar, quarkus-run.jar). Chosen over 3.0.9/2.6.x because
# 3.x serves the Confluent API at /apis/ccompat/v7 with content ids (same schema, same id, as
# Confluent) and honours apicurio.ccompat.use-canonical-hash. 3.2.1 and later need Java 21+; up.sh
# finds one (Temurin 25 under /usr/lib/jvm here). No source build with quarkus-maven-plugin was
# needed.
REGISTRY_VERSION="${PANOPTES_REGISTRY_VERSION:-3.3.3}"
REGISTRY_PORT="${PANOPTES_REGISTRY_PORT:-8081}"
# Quarkus' management interface (health, metrics); its default 9000 is a popular port.
REGISTRY_MGMT_PORT="${PANOPTES_REGISTRY_MGMT_PORT:-8091}"
REGISTRY_HEAP="${PANOPTES_REGISTRY_HEAP:-512m}"
REGISTRY_READY_TIMEOUT_S="${PANOPTES_REGISTRY_READY_TIMEOUT:-120}"
REGISTRY_HOST=127.0.0.1
REGISTRY_URL="http://$REGISTRY_HOST:$REGISTRY_PORT"
REGISTRY_READY_PATH=/apis/ccompat/v7/subjects

REGISTRY_HOME="$CACHE_DIR/apicurio-registry-$REGISTRY_VERSION"
REGISTRY_RUN="$RUN_DIR/registry"
REGISTRY_PIDFILE="$REGISTRY_RUN/registry.pid"
REGISTRY_LOG="$REGISTRY_RUN/registry.log"
# Passed as a system property on the registry's command line; tells our process from a recycled pid.
REGISTRY_MARKER="-Dpanoptes.infra=$REGISTRY_RUN"
