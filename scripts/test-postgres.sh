#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests and prints the export line for
# ROSTER_TEST_POSTGRES_URL. Usage:  eval "$(bash scripts/test-postgres.sh)"
# Installs PostgreSQL from Debian's packages when it is missing (needs root, as in CI).
set -euo pipefail

PORT=${ROSTER_TEST_PG_PORT:-55432}
DIR=${ROSTER_TEST_PG_DIR:-/tmp/roster-test-pg}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
  echo "installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(pg_bin)

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$DIR" postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
  # A test cluster: no fsync (a real one keeps it on), room for many parallel pools.
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off" >/dev/null
fi
URL="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "export ROSTER_TEST_POSTGRES_URL=$URL"
