#!/usr/bin/env bash
# Start, stop or check the shop's local PostgreSQL, Redis and Cassandra, with their data under
# .data/. Usage: scripts/services.sh start|stop|status
# Ports come from PG_PORT (55432), REDIS_PORT (56379: broker, cache), SEARCH_REDIS_PORT (56380: the
# search index) and CASSANDRA_PORT (59042, CQL); all listen on 127.0.0.1 only. Cassandra is run by scripts/cassandra.sh (its first start downloads its jars
# with Maven); CASSANDRA=off skips starting it (default: on). stop and status always include it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DATA="$ROOT/.data"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
SEARCH_REDIS_PORT="${SEARCH_REDIS_PORT:-56380}"
PG_DIR="$DATA/postgres"
PG_RUN="$DATA/run"
REDIS_DIR="$DATA/redis"
CASSANDRA="${CASSANDRA:-on}"
case "$CASSANDRA" in
  on|off) ;;
  *) echo "CASSANDRA must be on or off, not '$CASSANDRA'" >&2; exit 2 ;;
esac

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$dir" ] || { echo "PostgreSQL server binaries not found: run scripts/install.sh" >&2; exit 1; }
  echo "$dir"
}

# PostgreSQL refuses to run as root: as root, run it as the 'postgres' system user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_for() {  # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "$what did not answer within ${secs}s" >&2; return 1; fi
    sleep 0.2
  done
}

pg_start() {
  local bin; bin=$(pg_bin)
  mkdir -p "$DATA" "$PG_RUN"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_RUN"
    # the postgres user must be able to reach the data folder inside the repo, and so every
    # folder above it (a clone under /root, say): grant traversal (x) only, never reading.
    local dir="$DATA"
    while ! runuser -u postgres -- test -x "$DATA" 2>/dev/null && [ "$dir" != / ]; do
      chmod o+x "$dir" 2>/dev/null || true
      dir=$(dirname "$dir")
    done
    runuser -u postgres -- test -x "$DATA" ||
      { echo "postgres: the postgres user cannot reach $DATA" >&2; exit 1; }
  fi
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    echo "postgres: initialising .data/postgres"
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
    as_pg "$bin/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PG_DIR/postgresql.conf" <<CONF
# written by scripts/services.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_RUN'
max_connections = 300
shared_buffers = 512MB
synchronous_commit = on
wal_level = minimal
max_wal_senders = 0
fsync = on
CONF
  fi
  # Write-heavy tuning, rewritten on every start so that an existing cluster picks it up too. Under
  # order load the default max_wal_size (1GB) forced a checkpoint every two minutes, and each one
  # makes the next change of every page write the whole page into the WAL (44% of the WAL): rarer
  # checkpoints, compressed page images.
  cat > "$PG_DIR/commerce.conf" <<CONF
# written by scripts/services.sh on every start: edit it there
max_wal_size = 4GB
min_wal_size = 1GB
checkpoint_timeout = 15min
wal_compression = lz4
autovacuum_naptime = 15s
autovacuum_vacuum_cost_delay = 10ms
CONF
  grep -q "^include_if_exists = 'commerce.conf'" "$PG_DIR/postgresql.conf" ||
    echo "include_if_exists = 'commerce.conf'" >> "$PG_DIR/postgresql.conf"
  if as_pg "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PG_DIR" reload >/dev/null  # the settings above are all reloadable
    echo "postgres: already running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_RUN/postgres.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null
    echo "postgres: started on 127.0.0.1:$PG_PORT"
  fi
  wait_for postgres 30 "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -U postgres
  # the application role and database (idempotent)
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtAc \
    "SELECT 1 FROM pg_roles WHERE rolname='commerce'" | grep -q 1 ||
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE commerce LOGIN PASSWORD 'commerce' CREATEDB"
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='commerce'" | grep -q 1 ||
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE commerce OWNER commerce"
}

pg_stop() {
  [ -s "$PG_DIR/PG_VERSION" ] || return 0  # never initialised: nothing to stop
  local bin; bin=$(pg_bin)
  if as_pg "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null && echo "postgres: stopped"
  fi
}

redis_start() {
  # Two instances. The broker and cache one churns with every event and task, so it snapshots often
  # (60 s after 1,000 changes), which is cheap while it is small. The search index is gigabytes and
  # can be rebuilt from the catalogue: on its own instance it snapshots at most every 15 minutes,
  # and only when the index changed, so broker traffic never makes Redis fork and write it out
  # (a 1.8 GB snapshot took a core for 25-30 s, every minute under order load).
  # The index's postings are sets of small integers, kept as compact intsets (4 bytes a member) up
  # to 4M members instead of hashtables (~50 bytes); its product hashes hold a token list and a
  # summary longer than 64 bytes, kept as listpacks up to 1 KB.
  redis_instance redis "$REDIS_PORT" "$REDIS_DIR" --save "60 1000"
  redis_instance redis-search "$SEARCH_REDIS_PORT" "$DATA/redis-search" --save "900 1" \
    --set-max-intset-entries 4000000 --hash-max-listpack-value 1024
}

redis_instance() {  # redis_instance <name> <port> <dir> [redis-server options...]
  local name=$1 port=$2 dir=$3
  shift 3
  mkdir -p "$dir"
  if redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "$name: already running on 127.0.0.1:$port"
  else
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
      --daemonize yes --pidfile "$DATA/$name.pid" --logfile "$DATA/$name.log" \
      --appendonly no --maxclients 4000 "$@" >/dev/null
    echo "$name: started on 127.0.0.1:$port"
  fi
  wait_for "$name" 20 redis-cli -p "$port" ping
}

redis_stop() {
  command -v redis-cli >/dev/null 2>&1 || return 0
  local port
  for port in "$REDIS_PORT" "$SEARCH_REDIS_PORT"; do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
      echo "redis: stopped 127.0.0.1:$port"
    fi
  done
}

cassandra_start() {
  if [ "$CASSANDRA" = off ]; then
    echo "cassandra: not started (CASSANDRA=off)"
    return
  fi
  "$ROOT/scripts/cassandra.sh" start
}

case "${1:-}" in
  start)
    # `make up` and `make test` may start at the same moment: one start at a time. flock -o
    # keeps the lock out of the daemons started here, so it ends with this script.
    if [ -z "${SERVICES_LOCKED:-}" ]; then
      mkdir -p "$DATA"
      SERVICES_LOCKED=1 exec flock -o "$DATA/services.lock" "$ROOT/scripts/services.sh" start
    fi
    pg_start; redis_start; cassandra_start ;;
  stop) "$ROOT/scripts/cassandra.sh" stop; redis_stop; pg_stop ;;
  status)
    bin=$(pg_bin)
    "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -U postgres || true
    redis-cli -p "$REDIS_PORT" ping || true
    redis-cli -p "$SEARCH_REDIS_PORT" ping || true
    "$ROOT/scripts/cassandra.sh" status || true ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
