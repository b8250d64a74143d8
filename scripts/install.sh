#!/usr/bin/env bash
# Install what the shop needs on Debian 12, doing only what is missing: the PostgreSQL and Redis
# servers (apt), Java 17 and Maven for the local Cassandra (apt, only when `java` or `mvn` is
# missing; CASSANDRA=off skips them), the .venv virtualenv, and the Python packages when the
# requirements changed. Cassandra's own jars are fetched by scripts/cassandra.sh.
# Usage: scripts/install.sh   (as root, or as a user who may sudo)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.requirements.sha256"

say() { echo "install: $*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install: need root (or sudo) to run: $*" >&2
    exit 1
  fi
}

# Two `make` runs at once (say `make up` and `make test`) must not pip install over each other.
mkdir -p .data
exec 9>.data/install.lock
flock 9

pick_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
}

# --- system packages -------------------------------------------------------------------------
packages=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || packages+=(postgresql)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v make >/dev/null 2>&1 || packages+=(make)
if [ "${CASSANDRA:-on}" != off ]; then
  command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || packages+=(maven)
fi
PYTHON=$(pick_python)
if [ -z "$PYTHON" ]; then
  packages+=(python3 python3-venv)
elif [ ! -x "$VENV/bin/python" ] && ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
  packages+=(python3-venv)  # Debian ships venv's pip bootstrap separately
fi

if [ ${#packages[@]} -gt 0 ]; then
  say "apt-get install ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
  PYTHON=$(pick_python)
  [ -n "$PYTHON" ] || { echo "install: no python3 >= 3.11 after apt-get install" >&2; exit 1; }
else
  extra=""
  [ "${CASSANDRA:-on}" = off ] || extra=", java, mvn"
  say "system packages present (postgresql, redis-server, make, $PYTHON$extra)"
fi
if [ "${CASSANDRA:-on}" != off ] && [ -z "${CASSANDRA_JAVA:-}" ] &&
  ! java -XshowSettings:properties -version 2>&1 | grep -q 'java.specification.version = 17$'; then
  say "warning: \`java\` is not Java 17, which the local Cassandra 5.0 needs (set CASSANDRA_JAVA)" >&2
fi

# --- virtualenv ------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  say "creating $VENV with $PYTHON ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi

# --- python packages: only when requirements (or the venv's python) changed ------------------
wanted=$({ cat requirements.txt requirements-dev.txt; "$VENV/bin/python" --version; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$wanted" ]; then
  say "python packages up to date"
else
  say "pip install -r requirements-dev.txt"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r requirements-dev.txt
  echo "$wanted" >"$STAMP"
fi
