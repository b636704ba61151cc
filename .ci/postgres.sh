#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the test suite (../shared/TOOLCHAIN.md).
#   .ci/postgres.sh start   → installs Debian's postgresql if missing, starts a cluster in a temp
#                             folder on a random port, prints the admin URL on stdout
#   .ci/postgres.sh stop DIR
set -euo pipefail

pgbin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$dir"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi
}

case "${1:-}" in
  start)
    if [ -z "$(pgbin)" ]; then
      echo "installing postgresql from Debian's packages…" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y --no-install-recommends postgresql >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends postgresql >&2; }
    fi
    bin=$(pgbin)
    data=$(mktemp -d /tmp/dlr-pg.XXXXXX)
    port=$((20000 + RANDOM % 30000))
    if [ "$(id -u)" = 0 ]; then chown postgres "$data"; fi
    chmod 700 "$data"
    as_postgres "$bin/initdb -D $data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    as_postgres "$bin/pg_ctl -D $data -l $data/log -w -o \"-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300\" start" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres $data"
    ;;
  stop)
    data=${2:?usage: postgres.sh stop DIR}
    as_postgres "$(pgbin)/pg_ctl -D $data -m fast -w stop" >/dev/null || true
    rm -rf "$data"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
