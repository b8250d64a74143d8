#!/bin/sh
# Run a command at a CPU priority (a nice value, -20..19):
#   scripts/priority.sh -10 uwsgi ...     the web tier, above everything else (Procfile, WEB_NICE)
#   scripts/priority.sh 10 celery ...     background processes, below it (scripts/background.sh)
#
# Two knobs, because honcho starts every Procfile entry in a session of its own, and with the
# kernel's autogroup scheduling (on in Debian's kernels) CPU is shared between sessions first,
# where a process's own nice value counts for nothing: the session's autogroup nice is set too
# (when the session is this process's own, as under honcho). A whole session counts as one
# process there, so the web tier's three workers together weigh as much as any single PostgreSQL
# backend (each runs in a session of its own) unless their session is raised.
#
# 0 changes nothing. Lowering the priority is always allowed; raising it (a negative value) needs
# root or CAP_SYS_NICE: without them the command runs at the default priority, with a note.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: scripts/priority.sh NICE command [args...]" >&2
    exit 2
fi
niceness="$1"
shift
case "$niceness" in
    0) exec "$@" ;;
    -[1-9]|-1[0-9]|-20|[1-9]|1[0-9]) ;;
    *) echo "priority: the nice value must be -20..19, not '$niceness'" >&2; exit 2 ;;
esac
if [ "$niceness" -lt 0 ] && [ "$(nice -n "$niceness" nice 2>/dev/null)" = "$(nice)" ]; then
    echo "priority: not allowed to raise the priority to $niceness (needs root or CAP_SYS_NICE);" \
         "running at the default" >&2
    exec "$@"
fi
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
            echo "priority: could not set the autogroup nice value; running at the session's" >&2
            break
        fi
        sleep 0.2
    done
fi
exec nice -n "$niceness" "$@"
