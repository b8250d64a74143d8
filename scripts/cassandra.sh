#!/usr/bin/env bash
# A local single-node Apache Cassandra 5.0 for development and tests, without a tarball: Maven
# fetches cassandra-all and its dependencies (cassandra/pom.xml) into .cache/cassandra/lib, and
# the node runs from those jars with its data, config and logs under .data/cassandra.
#
# Usage: scripts/cassandra.sh fetch|start|stop|status|cqlsh-check|smoke|nodetool ARGS...
#   fetch        download the jars, only when .cache/cassandra/lib is missing or the pom changed
#   start        fetch, write the config, start the node and wait until a CQL query answers
#   stop         SIGTERM (Cassandra drains and flushes), SIGKILL after 60 s
#   status       pid, resident memory and the CQL answer
#   cqlsh-check  one CQL query (SELECT release_version FROM system.local) through the Python driver
#   smoke        a CQL round trip: keyspace, table, insert, USING TIMESTAMP, select, drop
#   nodetool     Cassandra's nodetool from the same jars, over JMX on 127.0.0.1 (e.g. `nodetool status`)
#
# Environment: CASSANDRA_PORT (CQL, 59042), CASSANDRA_STORAGE_PORT (internode, 57000),
# CASSANDRA_JMX_PORT (JMX on 127.0.0.1, 57199), CASSANDRA_HEAP (1G),
# CASSANDRA_START_TIMEOUT (seconds, 180), CASSANDRA_JAVA (a Java 17 binary; default: java).
# All ports listen on 127.0.0.1 only. Docs: docs/cassandra-local-node.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CASSANDRA_PORT="${CASSANDRA_PORT:-59042}"
CASSANDRA_STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-57000}"
CASSANDRA_JMX_PORT="${CASSANDRA_JMX_PORT:-57199}"
CASSANDRA_HEAP="${CASSANDRA_HEAP:-1G}"
CASSANDRA_START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"

SRC="$ROOT/cassandra"              # pom, config template, logback config, JVM options
POM="$SRC/pom.xml"
CACHE="$ROOT/.cache/cassandra"     # the jars (git-ignored)
LIB="$CACHE/lib"
STAMP="$CACHE/pom.sha256"
NODE="$ROOT/.data/cassandra"       # the node's config, data and logs (git-ignored)
CONF="$NODE/conf"
LOGS="$NODE/logs"
PIDFILE="$NODE/cassandra.pid"
PY="$ROOT/.venv/bin/python"
MAIN=org.apache.cassandra.service.CassandraDaemon

say() { echo "cassandra: $*"; }
die() { echo "cassandra: $*" >&2; exit 1; }

for port in "$CASSANDRA_PORT" "$CASSANDRA_STORAGE_PORT" "$CASSANDRA_JMX_PORT"; do
  [[ $port =~ ^[0-9]+$ ]] || die "not a port number: '$port' (CASSANDRA_*PORT)"
done
[[ $CASSANDRA_START_TIMEOUT =~ ^[0-9]+$ ]] || die "CASSANDRA_START_TIMEOUT must be seconds, not '$CASSANDRA_START_TIMEOUT'"

pom_version() {
  sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$POM" | head -n1
}

# --- java ------------------------------------------------------------------------------------
java_bin() {
  local java="${CASSANDRA_JAVA:-}"
  if [ -z "$java" ]; then
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java="$JAVA_HOME/bin/java"
    else java=$(command -v java || true); fi
  fi
  [ -n "$java" ] && [ -x "$java" ] || die "no java found: Cassandra 5.0 needs Java 17 (scripts/install.sh installs it)"
  local spec
  spec=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  # cassandra/jvm17.options is written for 17; Cassandra 5.0 runs on 11 and 17 only.
  [ "$spec" = 17 ] || die "$java is Java $spec: Cassandra 5.0 here needs Java 17 (set CASSANDRA_JAVA)"
  echo "$java"
}

# --- fetch -----------------------------------------------------------------------------------
jars_current() {
  [ -d "$LIB" ] && compgen -G "$LIB/cassandra-all-*.jar" >/dev/null &&
    compgen -G "$LIB/jamm-*.jar" >/dev/null &&
    [ "$(cat "$STAMP" 2>/dev/null)" = "$(sha256sum "$POM" | cut -d' ' -f1)" ]
}

fetch() {
  if jars_current; then
    say "jars up to date in .cache/cassandra/lib ($(ls "$LIB" | wc -l) jars)"
    return
  fi
  mkdir -p "$CACHE"
  # two fetches at once (scripts/cassandra.sh run by hand next to `make test`) wait for each other
  (
    flock 8
    if jars_current; then exit 0; fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found: run scripts/install.sh (it installs maven)"
    local version t0=$SECONDS tmp="$CACHE/lib.partial"
    version=$(pom_version)
    say "fetching cassandra-all $version and its runtime dependencies with Maven"
    rm -rf "$tmp"
    # Maven's output goes to a file (it prints colour codes even in batch mode); shown on failure
    mvn -B -q -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/mvn.log" 2>&1 ||
      { cat "$CACHE/mvn.log" >&2; die "mvn dependency:copy-dependencies failed (Maven Central reachable?)"; }
    if ! compgen -G "$tmp/cassandra-all-*.jar" >/dev/null; then
      mvn -B -q -f "$POM" dependency:copy -Dartifact="org.apache.cassandra:cassandra-all:$version" \
        -DoutputDirectory="$tmp" >"$CACHE/mvn.log" 2>&1 ||
        { cat "$CACHE/mvn.log" >&2; die "mvn dependency:copy of cassandra-all failed"; }
    fi
    compgen -G "$tmp/jamm-*.jar" >/dev/null || die "no jamm jar among the dependencies"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    sha256sum "$POM" | cut -d' ' -f1 >"$STAMP"
    say "fetched $(ls "$LIB" | wc -l) jars ($(du -sm "$LIB" | cut -f1) MB) into .cache/cassandra/lib in $((SECONDS - t0))s"
  ) 8>"$CACHE/fetch.lock"
}

# --- process and port checks -----------------------------------------------------------------
alive() {  # a process that exists and is not a zombie
  local state
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

node_pid() {  # prints the pid of this checkout's node, if it runs
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" || return 1
  # the pid must still be our java (pids are reused): its command line names our config
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF/cassandra.yaml" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Any socket, in any state, whose local port is $1 (/proc/net/tcp*, so no iproute2 needed). Our
# ports lie in the kernel's ephemeral range: a client connection (or a connection in TIME-WAIT,
# for 60 s) can hold one, and the node then fails to bind it.
port_held() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

wait_ports_free() {
  local port deadline=$((SECONDS + 75))
  for port in "$@"; do
    while port_held "$port"; do
      [ $SECONDS -ge $deadline ] && die "127.0.0.1:$port stays held by another socket (see /proc/net/tcp)"
      say "port $port is held by a connection (TIME-WAIT?): waiting for it to be released"
      sleep 5
    done
  done
}

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null | awk '{printf "%d MB", $1/1024}'; }

# One CQL query through the project's Python driver (scylla-driver provides `cassandra`).
# Prints "<release_version> <protocol version>". Without .venv: only checks the TCP port.
cql_query() {
  if [ ! -x "$PY" ] || ! "$PY" -c 'import cassandra.cluster' 2>/dev/null; then
    port_open "$CASSANDRA_PORT" && echo "unknown (no .venv: TCP port only)"
    return
  fi
  timeout 30 "$PY" - "$CASSANDRA_PORT" <<'PY'
import logging, sys, warnings
logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")
from cassandra.cluster import Cluster
from cassandra.io.asyncioreactor import AsyncioConnection
# asyncio, not the default libev reactor: with libev about half the processes wait 5 s at exit
cluster = Cluster(["127.0.0.1"], port=int(sys.argv[1]), connect_timeout=5, control_connection_timeout=5,
                  connection_class=AsyncioConnection)
try:
    session = cluster.connect()
    row = session.execute("SELECT release_version FROM system.local", timeout=5).one()
    print(row.release_version, "protocol-v%d" % cluster.protocol_version)
finally:
    cluster.shutdown()
PY
}

LOG_OFFSET=0  # size of system.log when this start began: the tail shows only what it wrote
log_tail() {
  echo "--- .data/cassandra/logs/system.log, this start (last 40 lines) ---" >&2
  tail -c +$((LOG_OFFSET + 1)) "$LOGS/system.log" 2>/dev/null | tail -n 40 >&2 || true
  echo "--- .data/cassandra/logs/stdout.log, this start (last 20 lines) ---" >&2
  awk '/^=== start /{n=0} {line[++n]=$0} END{for (i=1; i<=n; i++) print line[i]}' \
    "$LOGS/stdout.log" 2>/dev/null | tail -n 20 >&2 || true
}

# --- start -----------------------------------------------------------------------------------
write_config() {
  mkdir -p "$CONF" "$LOGS" "$NODE/data" "$NODE/commitlog" "$NODE/saved_caches" "$NODE/hints" "$NODE/cdc_raw" \
    "$NODE/triggers"
  local yaml
  yaml=$(<"$SRC/cassandra.yaml.template")
  yaml=${yaml//@DATA@/"$NODE"}
  yaml=${yaml//@NATIVE_PORT@/"$CASSANDRA_PORT"}
  yaml=${yaml//@STORAGE_PORT@/"$CASSANDRA_STORAGE_PORT"}
  printf '%s\n' "$yaml" >"$CONF/cassandra.yaml.new"
  mv "$CONF/cassandra.yaml.new" "$CONF/cassandra.yaml"
  cp "$SRC/logback.xml" "$CONF/logback.xml"
}

wait_ready() {  # wait_ready <pid>: until a CQL query answers, the process dies, or the deadline
  local pid=$1 t0=$SECONDS answer
  local deadline=$((t0 + CASSANDRA_START_TIMEOUT))
  while :; do
    if ! alive "$pid"; then
      log_tail
      rm -f "$PIDFILE"
      die "the node (pid $pid) exited while starting: see .data/cassandra/logs/"
    fi
    if port_open "$CASSANDRA_PORT" && answer=$(cql_query 2>/dev/null) && [ -n "$answer" ]; then
      break
    fi
    if [ $SECONDS -ge $deadline ]; then
      log_tail
      die "no CQL answer on 127.0.0.1:$CASSANDRA_PORT within ${CASSANDRA_START_TIMEOUT}s (pid $pid still running; scripts/cassandra.sh stop)"
    fi
    sleep 1
  done
  say "started on 127.0.0.1:$CASSANDRA_PORT in $((SECONDS - t0))s (pid $pid, Cassandra $answer, RSS $(rss "$pid"))"
}

start() {
  local pid answer java jamm
  fetch
  if pid=$(node_pid); then
    if answer=$(cql_query 2>/dev/null) && [ -n "$answer" ]; then
      say "already running on 127.0.0.1:$CASSANDRA_PORT (pid $pid, Cassandra $answer)"
      return
    fi
    say "pid $pid is running but does not answer CQL yet: waiting"
    wait_ready "$pid"
    return
  fi
  if port_open "$CASSANDRA_PORT"; then
    # like Redis in services.sh: whatever answers CQL on our port is taken as the node
    if answer=$(cql_query 2>/dev/null) && [ -n "$answer" ]; then
      say "already running on 127.0.0.1:$CASSANDRA_PORT (Cassandra $answer, not started from this checkout)"
      return
    fi
    die "127.0.0.1:$CASSANDRA_PORT is taken by something that does not answer CQL: set CASSANDRA_PORT"
  fi
  port_open "$CASSANDRA_STORAGE_PORT" &&
    die "127.0.0.1:$CASSANDRA_STORAGE_PORT (storage port) is taken: set CASSANDRA_STORAGE_PORT"

  wait_ports_free "$CASSANDRA_PORT" "$CASSANDRA_STORAGE_PORT"

  java=$(java_bin)
  write_config
  jamm=$(compgen -G "$LIB/jamm-*.jar" | head -n1)
  rm -f "$PIDFILE"
  LOG_OFFSET=$(stat -c %s "$LOGS/system.log" 2>/dev/null || echo 0)
  echo "=== start $(date -u +%FT%TZ) ===" >>"$LOGS/stdout.log"
  # setsid: its own session, so Ctrl-C in `make up` does not reach it; stdin/stdout/stderr
  # detached so that nothing (CI's output pipe, say) waits for it. setsid does not fork here
  # (a background job of a non-interactive shell is no group leader): $! is java's pid.
  (
    cd "$NODE"
    exec setsid "$java" @"$SRC/jvm17.options" \
      -Xms"$CASSANDRA_HEAP" -Xmx"$CASSANDRA_HEAP" \
      -XX:ErrorFile="$LOGS/hs_err_pid%p.log" \
      -javaagent:"$jamm" \
      -Dcassandra.config="file://$CONF/cassandra.yaml" \
      -Dcassandra.storagedir="$NODE" \
      -Dcassandra.logdir="$LOGS" \
      -Dcassandra.triggers_dir="$NODE/triggers" \
      -Dlogback.configurationFile="$CONF/logback.xml" \
      -Dcassandra-foreground=yes \
      -Dcassandra.skip_wait_for_gossip_to_settle=0 \
      -Dcassandra.initial_token=0 \
      -Dcassandra.shutdown_announce_in_ms=0 \
      -Dcassandra.jmx.local.port="$CASSANDRA_JMX_PORT" \
      -cp "$CONF:$LIB/*" "$MAIN"
  ) </dev/null >>"$LOGS/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  say "starting (pid $pid, heap $CASSANDRA_HEAP, logs in .data/cassandra/logs)"
  wait_ready "$pid"
}

# --- stop ------------------------------------------------------------------------------------
stop() {
  local pid t0=$SECONDS
  if ! pid=$(node_pid); then
    rm -f "$PIDFILE"
    return 0  # not running: nothing to say, like services.sh
  fi
  kill -TERM "$pid"
  while alive "$pid" && [ $((SECONDS - t0)) -lt 60 ]; do sleep 0.5; done
  if alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    say "killed (pid $pid did not stop within 60s of SIGTERM)"
  else
    say "stopped in $((SECONDS - t0))s"
  fi
  rm -f "$PIDFILE"
}

status() {
  local pid answer
  if pid=$(node_pid); then
    if answer=$(cql_query 2>/dev/null) && [ -n "$answer" ]; then
      say "running on 127.0.0.1:$CASSANDRA_PORT (pid $pid, RSS $(rss "$pid"), Cassandra $answer)"
    else
      say "pid $pid running (RSS $(rss "$pid")) but no CQL answer on 127.0.0.1:$CASSANDRA_PORT"
      return 1
    fi
  elif answer=$(cql_query 2>/dev/null) && [ -n "$answer" ]; then
    say "running on 127.0.0.1:$CASSANDRA_PORT (Cassandra $answer, not started from this checkout)"
  else
    say "not running"
    return 1
  fi
}

cqlsh_check() {
  local answer
  answer=$(cql_query) && [ -n "$answer" ] || die "no CQL answer on 127.0.0.1:$CASSANDRA_PORT"
  say "127.0.0.1:$CASSANDRA_PORT answers: release_version $answer"
}

smoke() {
  [ -x "$PY" ] || die "smoke needs .venv (scripts/install.sh)"
  timeout 120 "$PY" - "$CASSANDRA_PORT" <<'PY'
import logging, sys, time, uuid
logging.disable(logging.CRITICAL)
from cassandra.cluster import Cluster
from cassandra.io.asyncioreactor import AsyncioConnection
ks = "smoke_%s" % uuid.uuid4().hex[:8]
t0 = time.monotonic()
cluster = Cluster(["127.0.0.1"], port=int(sys.argv[1]), connection_class=AsyncioConnection)
session = cluster.connect()
try:
    session.execute(
        "CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" % ks)
    session.execute("CREATE TABLE %s.items (id uuid PRIMARY KEY, name text, price int)" % ks)
    one, two = uuid.uuid4(), uuid.uuid4()
    insert = session.prepare("INSERT INTO %s.items (id, name, price) VALUES (?, ?, ?)" % ks)
    session.execute(insert, (one, "pen", 3))
    # an explicit write time: a later write with an older timestamp must lose
    session.execute("INSERT INTO %s.items (id, name, price) VALUES (%%s, %%s, %%s) USING TIMESTAMP 2000" % ks,
                    (two, "new", 2))
    session.execute("INSERT INTO %s.items (id, name, price) VALUES (%%s, %%s, %%s) USING TIMESTAMP 1000" % ks,
                    (two, "old", 1))
    rows = {r.id: r for r in session.execute("SELECT id, name, price, writetime(name) AS wt FROM %s.items" % ks)}
    assert rows[one].name == "pen" and rows[one].price == 3, rows
    assert rows[two].name == "new" and rows[two].wt == 2000, rows[two]
finally:
    session.execute("DROP KEYSPACE IF EXISTS %s" % ks)
    cluster.shutdown()
print("cassandra: smoke passed (keyspace, table, insert, USING TIMESTAMP, select, drop) in %.1fs, protocol v%d"
      % (time.monotonic() - t0, cluster.protocol_version))
PY
}

nodetool() {
  local java
  java=$(java_bin)
  jars_current || die "no jars yet: scripts/cassandra.sh fetch"
  mkdir -p "$LOGS/nodetool"
  exec "$java" @"$SRC/jvm17.options" -Xmx256m -Dcassandra.logdir="$LOGS/nodetool" \
    -Dlogback.configurationFile="$SRC/logback.xml" -cp "$LIB/*" org.apache.cassandra.tools.NodeTool \
    -h 127.0.0.1 -p "$CASSANDRA_JMX_PORT" "$@"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  cqlsh-check) cqlsh_check ;;
  smoke) smoke ;;
  nodetool) shift; nodetool "$@" ;;
  *) echo "usage: $0 fetch|start|stop|status|cqlsh-check|smoke|nodetool ARGS..." >&2; exit 2 ;;
esac
