#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start` installs Debian's postgresql package when its server
# programs are missing, creates a cluster in a temporary directory owned by the `postgres` user (the server refuses
# to run as root), starts it on a local port with trust authentication on 127.0.0.1 only, and prints the URL the
# tests read; `stop` stops it and removes its directory. Safe to run as root with no standard input (CI), or as the
# `postgres` user itself.
#
#   scripts/postgres-test-cluster.sh start   # prints postgresql://postgres@127.0.0.1:54329/postgres
#   scripts/postgres-test-cluster.sh stop
#
# Settings (environment): PGTEST_PORT (54329), PGTEST_DIR (/tmp/asqlite-pgtest-$PGTEST_PORT).
set -euo pipefail

PORT="${PGTEST_PORT:-54329}"
DIR="${PGTEST_DIR:-/tmp/asqlite-pgtest-$PORT}"
DATA="$DIR/data"
LOG="$DIR/server.log"
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"

# The directory of initdb and pg_ctl: on PATH, or Debian's versioned one (the newest if several).
find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    echo "$d"
    return 0
  fi
  return 1
}

# Run a command as the `postgres` user (or as ourselves when we are not root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    # `su` reads no password as root; </dev/null so it never waits on a terminal.
    su postgres -s /bin/sh -c "$*" </dev/null
  else
    sh -c "$*" </dev/null
  fi
}

start() {
  local bin
  if ! bin="$(find_bin)"; then
    echo "postgres-test-cluster: installing PostgreSQL (initdb/pg_ctl not found)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update </dev/null
    apt-get install -y --no-install-recommends postgresql </dev/null
    bin="$(find_bin)" || { echo "postgres-test-cluster: no initdb after installing postgresql" >&2; exit 1; }
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  fi
  # A cluster left running by an earlier run (a killed job) is stopped first.
  if [ -f "$DATA/postmaster.pid" ]; then
    as_postgres "'$bin/pg_ctl' -D '$DATA' -m immediate stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$DIR"
  fi
  as_postgres "'$bin/initdb' -D '$DATA' -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >'$DIR/initdb.log' 2>&1" \
    || as_postgres "'$bin/initdb' -D '$DATA' -U postgres --auth=trust --encoding=UTF8 --no-locale >'$DIR/initdb.log' 2>&1" \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  # Local connections only: TCP on 127.0.0.1, the socket in the cluster's own directory; no durability needed.
  as_postgres "'$bin/pg_ctl' -D '$DATA' -l '$LOG' -w -t 60 \
    -o \"-p $PORT -k '$DIR' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start" >/dev/null \
    || { cat "$LOG" >&2; exit 1; }
  echo "$URL"
}

stop() {
  local bin
  if bin="$(find_bin)" && [ -f "$DATA/postmaster.pid" ]; then
    as_postgres "'$bin/pg_ctl' -D '$DATA' -m fast -w stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
