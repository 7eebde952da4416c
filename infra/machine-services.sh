#!/usr/bin/env bash
# Check that the machine's own PostgreSQL (127.0.0.1:5432, database `test`, trust auth) and Redis
# (127.0.0.1:6379), which the lab's services use as real dependencies, are up; start one that has
# stopped, as root, with the machine's own start commands. Panoptes never stops them: they are the
# machine's, shared with other users, and the lab reaches them through its own proxies.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wait_port() { # name host port seconds
  local i
  for ((i = 0; i < $4 * 2; i++)); do
    port_open "$2" "$3" && return 0
    sleep 0.5
  done
  die "$1: not reachable on $2:$3 after $4 s"
}

if port_open 127.0.0.1 5432; then
  say "postgresql: up on 127.0.0.1:5432"
else
  ((EUID == 0)) || die "postgresql: not reachable on 127.0.0.1:5432 and not root to start it"
  say "postgresql: not reachable, starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_port postgresql 127.0.0.1 5432 30
fi
if command -v psql >/dev/null && ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  die "postgresql: up, but database 'test' is not reachable as postgres with trust auth (psql -h 127.0.0.1 -U postgres -d test)"
fi

if port_open 127.0.0.1 6379; then
  say "redis: up on 127.0.0.1:6379"
else
  ((EUID == 0)) || die "redis: not reachable on 127.0.0.1:6379 and not root to start it"
  say "redis: not reachable, starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port redis 127.0.0.1 6379 30
fi
