#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis for gardefou's tests and benchmarks; installs nothing.
#
#   eval "$(scripts/start-services.sh)"     # then: pytest -m 'postgres or redis or not slow'
#
# Needs the Debian packages postgresql and redis-server (or any initdb/pg_ctl/redis-server on
# PATH). PostgreSQL refuses to run as root, so when run as root the cluster is created in a
# folder owned by the `postgres` user and started as that user. Ports and folder can be moved
# with GARDEFOU_PG_PORT, GARDEFOU_REDIS_PORT and GARDEFOU_SERVICES_DIR. Running it twice reuses
# the running servers. Stop them with: scripts/start-services.sh stop
set -euo pipefail

BASE=${GARDEFOU_SERVICES_DIR:-/tmp/gardefou-services}
PG_PORT=${GARDEFOU_PG_PORT:-55432}
REDIS_PORT=${GARDEFOU_REDIS_PORT:-6390}
PG_DB=gardefou_test

pg_bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
        pg_config --bindir; return
    fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    if [ -n "$d" ]; then echo "$d"; return; fi
    dirname "$(command -v pg_ctl)"
}

PGBIN=$(pg_bindir)
PGDATA="$BASE/pg/data"
PGSOCK="$BASE/pg/sock"

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

if [ "${1:-}" = stop ]; then
    [ -d "$PGDATA" ] && as_pg "'$PGBIN/pg_ctl' -D '$PGDATA' -m fast stop" >&2 || true
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    exit 0
fi

mkdir -p "$BASE/pg" "$BASE/redis"
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$BASE/pg"
    chmod 700 "$BASE/pg"
fi

if [ ! -f "$PGDATA/PG_VERSION" ]; then
    as_pg "mkdir -p '$PGDATA' '$PGSOCK' && '$PGBIN/initdb' -D '$PGDATA' -U postgres -A trust -E UTF8 --no-instructions" >"$BASE/pg/initdb.log" 2>&1 \
        || { cat "$BASE/pg/initdb.log" >&2; exit 1; }
fi
if ! as_pg "'$PGBIN/pg_ctl' -D '$PGDATA' status" >/dev/null 2>&1; then
    as_pg "'$PGBIN/pg_ctl' -D '$PGDATA' -l '$BASE/pg/server.log' -w -o \"-p $PG_PORT -k $PGSOCK -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >&2 \
        || { tail -n 20 "$BASE/pg/server.log" >&2; exit 1; }
fi
if ! as_pg "'$PGBIN/psql' -h 127.0.0.1 -p $PG_PORT -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='$PG_DB'\"" | grep -q 1; then
    as_pg "'$PGBIN/createdb' -h 127.0.0.1 -p $PG_PORT -U postgres $PG_DB" >&2
fi

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$BASE/redis" \
        --save "" --appendonly no --logfile "$BASE/redis/redis.log" >&2
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "export GARDEFOU_TEST_PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
echo "export GARDEFOU_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
