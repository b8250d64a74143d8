#!/bin/sh
# Run a background process of the shop (Celery workers, beat) below the web tier's CPU priority:
#   scripts/background.sh celery -A config worker ...
# Orders are accepted by the web tier and worked through by the saga's workers; when both want the
# cores (a burst above what the saga can confirm per second), the web tier must win, or requests
# queue up behind the backlog and the shop stops answering (measured in docs/orders.md: 500
# orders/s offered, workers at the same priority: 245-352/s accepted, p99 15-33 s; niced: 500/s,
# p99 32 ms, with the saga still confirming ~280/s from the leftover CPU).
# BACKGROUND_NICE (default 10, 0 = off) is the nice value, set on the process and on its
# session's autogroup (scripts/priority.sh).
set -eu
exec "$(dirname "$0")/priority.sh" "${BACKGROUND_NICE:-10}" "$@"
