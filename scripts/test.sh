#!/usr/bin/env bash
# The checks CI runs: ruff, the import-linter contracts and pytest against real PostgreSQL and
# Redis. All three always run; the exit status is non-zero if any failed.
# Usage: scripts/test.sh [pytest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh
scripts/services.sh start

export PATH="$PWD/.venv/bin:$PATH"
# pytest-django prefers this variable over pyproject.toml: tests always get config.settings.test
# (use --ds to choose another).
unset DJANGO_SETTINGS_MODULE
failed=()

run() {  # run <name> <command...>
  local name=$1 status=0
  shift
  echo "test: $name"
  "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    # pytest exits 5 when it collected nothing: that is a failure too, we always have tests.
    [ "$name" = pytest ] && [ "$status" -eq 5 ] && echo "test: pytest collected no tests" >&2
    failed+=("$name (exit $status)")
  fi
}

run ruff ruff check .
run lint-imports lint-imports
run pytest pytest "$@"

if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test: all passed"
