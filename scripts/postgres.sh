#!/usr/bin/env bash
# A PostgreSQL server for the tests: Debian's postgresql package, in a
# cluster of its own (melodora_test, port 55432, trust authentication on
# loopback only), so that it neither needs nor touches a system cluster.
#
#   eval "$(scripts/postgres.sh start)"   # installs if needed, starts, and
#                                        # prints MELODORA_TEST_DATABASE_URL
#                                        # and MELODORA_TEST_PG_BINDIR
#   scripts/postgres.sh stop
#
# The server refuses to run as root, so the cluster belongs to the
# `postgres` user and is driven with pg_ctlcluster. Needs root or sudo for
# apt-get and for the cluster's first creation.
set -euo pipefail

CLUSTER=melodora_test
PORT=${MELODORA_TEST_PG_PORT:-55432}
ROLE=melodora
URL="postgres://$ROLE@127.0.0.1:$PORT/postgres"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

install() {
  if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing postgresql (apt-get)" >&2
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
  fi
}

version() {
  ls /usr/lib/postgresql | sort -V | tail -1
}

start() {
  install
  local version
  version=$(version)
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$CLUSTER"; then
    echo "creating cluster $version/$CLUSTER on port $PORT" >&2
    as_root pg_createcluster --port "$PORT" "$version" "$CLUSTER" -- \
      --auth-local=trust --auth-host=trust >&2
    # Loopback only; many connections for the load tests.
    as_root pg_conftool "$version" "$CLUSTER" set listen_addresses localhost >&2
    as_root pg_conftool "$version" "$CLUSTER" set max_connections 300 >&2
    as_root pg_conftool "$version" "$CLUSTER" set fsync off >&2
  fi
  if ! pg_lsclusters -h | awk -v c="$CLUSTER" '$2 == c {print $4}' | grep -qx online; then
    as_root pg_ctlcluster "$version" "$CLUSTER" start >&2
  fi
  for _ in $(seq 1 50); do
    if as_postgres psql -q -p "$PORT" -h 127.0.0.1 -d postgres -c "SELECT 1" >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  # A role that may create the throwaway databases the tests use.
  as_postgres psql -q -p "$PORT" -h 127.0.0.1 -d postgres -v ON_ERROR_STOP=1 >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB;
  END IF;
END \$\$;
SQL
  echo "export MELODORA_TEST_DATABASE_URL=$URL"
  # For the test that stops and restarts a server of its own.
  echo "export MELODORA_TEST_PG_BINDIR=/usr/lib/postgresql/$version/bin"
}

stop() {
  local version
  version=$(version)
  if pg_lsclusters -h 2>/dev/null | awk -v c="$CLUSTER" '$2 == c {print $4}' | grep -qx online; then
    as_root pg_ctlcluster "$version" "$CLUSTER" stop >&2
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
