#!/usr/bin/env bash
# Run the whole shop locally: install what is missing, start PostgreSQL, Redis and Cassandra, migrate, then
# run web (uWSGI), worker and beat (Celery) under honcho. Ctrl-C stops the three; the
# databases keep running until `make down`.
# Usage: scripts/up.sh   (PORT, WEB_CONCURRENCY, CELERY_CONCURRENCY may be set)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh
scripts/services.sh start

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
export PORT="${PORT:-8000}"
export SHOP_PORT="$PORT"  # honcho gives every Procfile entry its own PORT; the carrier simulator needs the web's
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONUNBUFFERED=1

echo "up: migrate"
python manage.py migrate --noinput
# Cassandra keyspace and tables (product documents), from the catalog's Cassandra models
echo "up: sync_cassandra"
python manage.py sync_cassandra --database cassandra >/dev/null
# the search index, if Redis has none (first run, or Redis restarted empty)
echo "up: search index"
python manage.py reindex --if-missing
# Fills STATIC_ROOT (.data/static), which WhiteNoise serves (see README).
echo "up: collectstatic"
python manage.py collectstatic --noinput >/dev/null

base="http://127.0.0.1:$PORT"
cat <<EOF

  API      $base/
  docs     $base/api/docs/
  schema   $base/api/schema/
  admin    $base/admin/
  health   $base/health
  carrier  http://127.0.0.1:${CARRIER_PORT:-58102}/_control/state   (carrier simulator, simulators/README.md)
  gateway  http://127.0.0.1:${GATEWAY_PORT:-58101}/control/stats  (payment gateway simulator)

  Ctrl-C stops the Procfile's processes (web, worker, payments, shipping, beat, the simulators).
  PostgreSQL (127.0.0.1:${PG_PORT:-55432}), Redis (127.0.0.1:${REDIS_PORT:-56379}; the search
  index on 127.0.0.1:${SEARCH_REDIS_PORT:-56380}) and Cassandra keep running: \`make down\` stops them.

EOF

# honcho gives the first Procfile entry (web) PORT=$PORT; -e /dev/null: no .env file surprises.
exec honcho start -f Procfile -e /dev/null -p "$PORT"
