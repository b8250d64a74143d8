#!/bin/sh
# Run a background process of the shop (Celery workers, beat) below the web tier's CPU priority:
#   scripts/background.sh celery -A config worker ...
# Orders are accepted by the web tier and worked through by the saga's workers; when both want the
# cores (a burst above what the saga can confirm per second), the web tier must win, or requests
# queue up behind the backlog and the shop stops answering (measured in docs/orders.md: 500
# orders/s offered, workers at the same priority: 245-352/s accepted, p99 15-33 s; niced: 500/s,
# p99 32 ms, with the saga still confirming ~280/s from the leftover CPU).
#
# Two knobs, because honcho starts every Procfile entry in a session of its own, and with the
# kernel's autogroup scheduling (on in Debian's kernels) CPU is shared between sessions first,
# where a process's own nice value counts for nothing: the session's autogroup nice is set too
# (when the session is this process's own, as under honcho).
# BACKGROUND_NICE (default 10, 0 = off) sets both.
set -eu
niceness="${BACKGROUND_NICE:-10}"
if [ "$niceness" != 0 ]; then
    # the autogroup is the whole session's: change it only in a session of our own (honcho's
    # `sh -c` and this script), never in, say, the shell of whoever ran this by hand
    session=$(sed 's/.*) //' /proc/$$/stat 2>/dev/null | cut -d' ' -f4)
    if [ -w /proc/self/autogroup ] && { [ "$session" = "$$" ] || [ "$session" = "$PPID" ]; }; then
        # the kernel takes one autogroup change per 100 ms machine-wide (unless privileged):
        # processes started together retry
        tries=0
        until echo "$niceness" 2>/dev/null >/proc/self/autogroup; do
            tries=$((tries + 1))
            if [ "$tries" -ge 20 ]; then
                echo "background: could not set the autogroup nice value; running at the session's" >&2
                break
            fi
            sleep 0.2
        done
    fi
    exec nice -n "$niceness" "$@"
fi
exec "$@"
