# Settings shared by the Alertmanager scripts (sourced after ../lib.sh); each can be overridden
# from the environment. Alertmanager comes from Debian's prometheus-alertmanager package
# (infra/debian.sh). Its default port 9093 is the Kafka controller's port here, so it runs on
# 19093, with clustering off (--cluster.listen-address= empty: a single node needs no gossip port).
ALERTMANAGER_BIN="${PANOPTES_ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}"
ALERTMANAGER_PORT="${PANOPTES_ALERTMANAGER_PORT:-19093}"
ALERTMANAGER_HOST=127.0.0.1
ALERTMANAGER_URL="http://$ALERTMANAGER_HOST:$ALERTMANAGER_PORT"
ALERTMANAGER_READY_TIMEOUT_S="${PANOPTES_ALERTMANAGER_READY_TIMEOUT:-30}"
ALERTMANAGER_RUN="$RUN_DIR/alertmanager-$ALERTMANAGER_PORT"
ALERTMANAGER_PIDFILE="$ALERTMANAGER_RUN/alertmanager.pid"
ALERTMANAGER_LOG="$ALERTMANAGER_RUN/alertmanager.log"
# The listen flag is on its command line; it tells our process from a recycled pid.
ALERTMANAGER_MARKER="--web.listen-address=$ALERTMANAGER_HOST:$ALERTMANAGER_PORT"
