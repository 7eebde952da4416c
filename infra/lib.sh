# Shared helpers for the infra scripts. Source it; do not run it.
# Everything the scripts start is tracked by a pid file under infra/.run and stopped by that pid
# only, so several engineers (or CI) can call up/down concurrently without killing each other's
# unrelated processes. A per-service lock serialises concurrent up/down calls.

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${PANOPTES_INFRA_CACHE:-$INFRA_DIR/.cache}"
RUN_DIR="${PANOPTES_INFRA_RUN:-$INFRA_DIR/.run}"
# The physical path: pid-file markers are paths on the servers' command lines, and a worktree whose
# infra/.run is a symlink to another checkout's must recognise (never remove the pid files of) the
# servers that checkout started.
RUN_DIR=$(cd "$RUN_DIR" 2>/dev/null && pwd -P || printf '%s\n' "$RUN_DIR")
# Bound on any single Maven download step, so a dead network fails instead of hanging.
MVN_TIMEOUT_S="${PANOPTES_MVN_TIMEOUT:-900}"

say() { printf '[infra] %s\n' "$*"; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# Take an exclusive lock for the rest of the calling script (released when it exits).
# Waits at most $2 seconds: a first `up` that downloads may hold it for minutes. The lock file is
# $3/$1.lock ($3 defaults to the run directory).
take_lock() {
  local name=$1 wait_s=${2:-900} dir=${3:-$RUN_DIR}
  mkdir -p "$dir"
  exec {LOCK_FD}>"$dir/$name.lock"
  if ! flock -n "$LOCK_FD"; then
    say "$name: another infra script holds the lock, waiting (max ${wait_s}s)"
    flock -w "$wait_s" "$LOCK_FD" || die "$name: lock $dir/$name.lock still held after ${wait_s}s"
  fi
}

# True if host:port accepts a TCP connection within 2 s.
port_open() {
  timeout 2 bash -c ": </dev/tcp/$1/$2" 2>/dev/null
}

# Prints the pid recorded in $1 if that process is alive and its command line contains $2
# (guards against a recycled pid); otherwise prints nothing and returns 1.
live_pid() {
  local file=$1 marker=$2 pid cmd
  [ -f "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *"$marker"* ]] || return 1
  printf '%s\n' "$pid"
}

# Start a command detached from this shell (own session, immune to hangup), stdout+stderr to $2,
# and record its pid in $1. The pid is the java process itself (exec), not a wrapper.
start_detached() {
  local pidfile=$1 out=$2; shift 2
  : >"$out"
  # The subshell drops our lock fd before exec'ing (a long-lived child holding it would keep the
  # lock forever); exec keeps $! equal to the server's own pid.
  (
    [ -z "${LOCK_FD:-}" ] || exec {LOCK_FD}>&-
    exec nohup setsid "$@" >>"$out" 2>&1 </dev/null
  ) &
  echo $! >"$pidfile"
}

# Stop the process recorded in $1 (checked against marker $2): TERM, wait up to $3 s, then KILL.
# Removes the pid file. A missing or stale pid file is not an error.
stop_pidfile() {
  local file=$1 marker=$2 wait_s=${3:-30} name=${4:-process} pid i
  if ! pid=$(live_pid "$file" "$marker"); then
    rm -f "$file"
    say "$name: not running"
    return 0
  fi
  say "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name: still alive after ${wait_s}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
  say "$name: stopped"
}

# Print the last $2 lines of each existing file given after it, to stderr.
log_tail() {
  local n=$1 f; shift
  for f in "$@"; do
    if [ ! -s "$f" ]; then
      printf -- '----- %s: empty or missing -----\n' "$f" >&2
      continue
    fi
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
  done
}

# wait_until SECONDS PID CHECK...: run CHECK every second until it succeeds (return 0), the
# deadline passes (return 1) or process PID dies (return 2).
wait_until() {
  local limit=$1 pid=$2 deadline; shift 2
  deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 2
    if "$@"; then return 0; fi
    sleep 1
  done
  return 1
}

# Print the path of a `java` whose feature version is at least $1: $JAVA_HOME's, then the one on
# PATH, then any JDK under /usr/lib/jvm (newest first).
find_java() {
  local min=$1 cand v
  for cand in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" \
    $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV); do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    v=$("$cand" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)
    v=${v#1.}
    if [[ "$v" =~ ^[0-9]+$ ]] && ((v >= min)); then
      printf '%s\n' "$cand"
      return 0
    fi
  done
  return 1
}

# mvn_bounded LOGFILE ARGS...: mvn in batch mode with network timeouts and an overall bound; its
# output goes to LOGFILE, whose tail is printed if it fails.
mvn_bounded() {
  local logfile=$1 rc=0; shift
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  mkdir -p "$(dirname "$logfile")"
  timeout --kill-after=10 "$MVN_TIMEOUT_S" mvn -q -B -Dstyle.color=never \
    -Dmaven.wagon.http.retryHandler.count=3 -Dmaven.wagon.rto=60000 \
    -Daether.connector.connectTimeout=30000 -Daether.connector.requestTimeout=60000 \
    "$@" >"$logfile" 2>&1 </dev/null || rc=$?
  if ((rc != 0)); then
    ((rc == 124)) && echo "[infra] mvn gave up after ${MVN_TIMEOUT_S}s" >&2
    log_tail 30 "$logfile"
  fi
  return "$rc"
}

# cds_opts JAVA ARCHIVE_PREFIX: JVM options for an application class-data archive, which cuts a
# server's start-up CPU by ~40% here. The archive is written at the first clean exit and used from
# then on; its name carries a checksum of the JVM's version, so another JDK gets its own archive.
# Java 19+ also re-creates an archive it cannot use.
cds_opts() {
  local java=$1 prefix=$2 sum feature archive
  sum=$("$java" -version 2>&1 | cksum | cut -d' ' -f1)
  feature=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)
  archive="$prefix-$sum.jsa"
  if [[ "$feature" =~ ^[0-9]+$ ]] && ((feature >= 19)); then
    printf '%s\n' -XX:+AutoCreateSharedArchive "-XX:SharedArchiveFile=$archive"
  elif [ -s "$archive" ]; then
    printf '%s\n' "-XX:SharedArchiveFile=$archive"
  else
    printf '%s\n' "-XX:ArchiveClassesAtExit=$archive"
  fi
}
