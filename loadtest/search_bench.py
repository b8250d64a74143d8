"""Search benchmark: load a generated catalogue, rebuild the index, then measure memory, search
throughput and latency (over HTTP and in-process) and freshness through the real event path.

    DJANGO_DEBUG=0 .venv/bin/python loadtest/search_bench.py [--products 1000000] [--store postgres]

Runs against the local services of `make services` (PostgreSQL database `commerce`, Redis, and
Cassandra when it is the product store); starts its own web server (the Procfile's command: uWSGI,
``--web-workers`` workers, on a free port) and its own Celery worker, so stop `make up`
first or at least do not mind sharing the two cores. Phases (``--phases``, in this order):

load       products of ``loadtest/products.py`` (ids of their own per ``--seed``): identity and stock
           rows (catalog_product, catalog_stock, catalog_stock_movement) by COPY; documents into
           the product store: Cassandra (the default store) by ``product_store().put`` from
           ``--threads`` threads, or with ``--store postgres`` the PostgreSQL store by COPY
           (``--store`` also sets CATALOG_PRODUCT_STORE for everything the script starts).
reindex    EMPTIES the search Redis database, then runs ``commerce.search.rebuild.rebuild`` (what
           ``manage.py reindex`` runs): time, rate, the CPU of this process and of Redis.
memory     used_memory of the Redis server before the rebuild and after it (other databases share
           the server: the delta is the index), and where it goes, per key kind.
inprocess  the query mix against ``commerce.search.query.search`` in this process, one caller.
http       ``loadtest/search_load.py`` (asyncio, open model; ``--load-generator locust`` for
           ``loadtest/search_locustfile.py``) against the web server: at ``--rate`` searches/s, then with
           ``--users`` callers back to back; req/s, p50, p99, failures, per query kind, and the CPU
           of Redis, the web server and the load generator.
freshness  a Celery worker (-Q eventbus,catalog,search -c 2, with beat) and ``--update-rate``
           product renames/s through ``catalog.services.product_update`` for ``--update-seconds``;
           time from the update's commit until a search for its new name finds it.
cleanup    deletes the products it added (PostgreSQL rows; Cassandra rows with --cleanup-cassandra,
           see below), empties the search database and rebuilds it from what is left.

Loading Cassandra through the store runs at about 640 products/s here, so 1M products are measured with
``--store postgres``; a reindex from Cassandra with the configured driver settings fails after some
50,000 products (protocol v5 framing, see docs/search.md): ``--cassandra-protocol 4`` avoids it.
Cassandra keeps a deletion as a tombstone stamped with the server clock, which shadows every later
write of the same ids (the store writes with the version as timestamp): after a Cassandra cleanup,
load the next run with another ``--seed``. Results go to stdout; locust's CSVs and the worker's
and the web server's logs to .data/search-bench/.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import free_port, percentile, web_server_argv  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

STORES = {
    "postgres": "commerce.catalog.store.PostgresProductStore",
    "cassandra": "commerce.catalog.cassandra_store.CassandraProductStore",
}
# the store `make up` uses (the default of config/settings/base.py unless the environment says);
# --store replaces it before Django starts, so that the processes this script starts use it too
ORIGINAL_STORE = os.environ.get("CATALOG_PRODUCT_STORE", STORES["cassandra"])
if "--store" in sys.argv[:-1]:
    os.environ["CATALOG_PRODUCT_STORE"] = STORES[sys.argv[sys.argv.index("--store") + 1]]

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from tqdm import tqdm  # noqa: E402

from commerce.catalog import services  # noqa: E402
from commerce.catalog.store import ProductDoc, product_store  # noqa: E402
from commerce.search import index, query, rebuild, text  # noqa: E402
from loadtest import products as gen  # noqa: E402

OUT = ROOT / ".data" / "search-bench"
PHASES = ("load", "reindex", "memory", "inprocess", "http", "freshness", "cleanup")
GIB = 1 << 30
POLL_S = 0.05  # freshness: how often each waiting rename is searched for


def store_kind() -> str:
    return "postgres" if settings.CATALOG_PRODUCT_STORE == STORES["postgres"] else "cassandra"


def redis_info(section: str) -> dict:
    return index.client().info(section)


# --- load ------------------------------------------------------------------------------------


def _copy(cursor, sql: str, rows) -> None:
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def load(count: int, seed: int, threads: int, chunk: int = 20_000) -> None:
    now = datetime.now(UTC)
    kind = store_kind()
    low, high = gen.id_range(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_product WHERE id >= %s AND id < %s", [low, high])
        if cursor.fetchone()[0]:
            print(f"load: products of seed {seed} exist already: deleting their PostgreSQL rows first")
            delete_postgres_rows(seed)
    store = product_store()
    pool = None
    if kind == "cassandra":
        store.get(uuid.uuid4())  # connect from one thread: a first use from many at once finds no session yet
        pool = ThreadPoolExecutor(threads)
    spent = defaultdict(float)
    started = time.perf_counter()
    with tqdm(total=count, desc=f"load ({kind} documents)", unit="product", smoothing=0.05) as bar:
        for first in range(0, count, chunk):
            t0 = time.perf_counter()
            batch = list(gen.generate(min(chunk, count - first), seed=seed, start=first))
            created = [now - timedelta(seconds=p.age_s) for p in batch]
            t1 = time.perf_counter()
            spent["generate"] += t1 - t0
            with transaction.atomic(), connection.cursor() as cursor:
                _copy(cursor, "COPY catalog_product (id, seller_id, version, created_at) FROM STDIN",
                      ((p.product_id, p.seller_id, 1, c) for p, c in zip(batch, created, strict=True)))
                _copy(cursor, "COPY catalog_stock (product_id, seller_id, on_hand, reserved, version, updated_at)"
                      " FROM STDIN", ((p.product_id, p.seller_id, p.stock, 0, 1, now) for p in batch))
                _copy(cursor, "COPY catalog_stock_movement (product_id, kind, on_hand_delta, reserved_delta, reason,"
                      " actor_id, request_key) FROM STDIN",
                      ((p.product_id, "adjust", p.stock, 0, "initial stock", p.seller_id, "") for p in batch
                       if p.stock))
                if kind == "postgres":
                    _copy(cursor, "COPY catalog_product_document (product_id, seller_id, name, description, price,"
                          " currency, category, attributes, active, version, created_at, updated_at) FROM STDIN",
                          ((p.product_id, p.seller_id, p.name, p.description, p.price, p.currency, p.category,
                            json.dumps(p.attributes, ensure_ascii=False), True, 1, c, c)
                           for p, c in zip(batch, created, strict=True)))
            t2 = time.perf_counter()
            spent["postgres"] += t2 - t1
            if kind == "cassandra":
                docs = [ProductDoc(product_id=p.product_id, seller_id=p.seller_id, name=p.name,
                                   description=p.description, price=p.price, currency=p.currency,
                                   category=p.category, attributes=p.attributes, version=1, created_at=c,
                                   updated_at=c) for p, c in zip(batch, created, strict=True)]
                for _ in pool.map(store.put, docs):
                    bar.update()
                spent["cassandra"] += time.perf_counter() - t2
            else:
                bar.update(len(batch))
    elapsed = time.perf_counter() - started
    if pool:
        pool.shutdown()
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in spent.items())
    print(f"load: {count:,} products in {elapsed:.1f} s = {count / elapsed:,.0f} products/s ({parts})")
    if kind == "cassandra":
        print(f"load: Cassandra documents by product_store().put from {threads} threads: "
              f"{count / spent['cassandra']:,.0f} puts/s")
        probe = gen.product(count - 1, seed=seed)
        if store.get(probe.product_id) is None:
            raise SystemExit("load: the Cassandra store does not return what was just written: these ids were "
                             "deleted in an earlier run (tombstones win); use another --seed")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("ANALYZE catalog_stock")


# --- reindex and memory ----------------------------------------------------------------------


def reindex() -> dict:
    conn = index.client()
    empty_search_db(conn)
    before = redis_info("memory")["used_memory"]
    redis_cpu = _redis_cpu()
    forks = redis_info("stats").get("total_forks", 0)
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with tqdm(desc="reindex", unit="product", mininterval=0.5, smoothing=0.05) as bar:
        generation, count = rebuild.rebuild(progress=bar.update)
    elapsed = time.perf_counter() - started
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    redis_cpu = _redis_cpu() - redis_cpu
    own_cpu = own_after.ru_utime + own_after.ru_stime - own.ru_utime - own.ru_stime
    forks = redis_info("stats").get("total_forks", 0) - forks
    print(f"reindex: {count:,} products in {elapsed:.1f} s = {count / elapsed:,.0f} products/s "
          f"(target 1M in <= 300 s, i.e. >= 3,333/s); CPU: this process {own_cpu:.0f} s, Redis {redis_cpu:.0f} s; "
          f"Redis forked {forks}x for RDB snapshots meanwhile")
    return {"generation": generation, "count": count, "before": before, "seconds": elapsed}


def empty_search_db(conn) -> None:
    """FLUSHDB in the background (a synchronous one of a big index outlasts the client's 2 s timeout),
    then wait until Redis has freed it, so that used_memory is a baseline again."""
    conn.flushdb(asynchronous=True)
    while int(redis_info("memory").get("lazyfree_pending_objects", 0)):
        time.sleep(0.2)


def _redis_cpu() -> float:
    cpu = redis_info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def rebuild_breakdown(sample: int) -> None:
    """Where a rebuild's time goes, on the first ``sample`` products: reading the catalogue, the
    Python side of one document (tokens, summary), the two scripts per product in Redis."""
    from commerce.catalog import api as catalog

    t0 = time.perf_counter()
    records = []
    for record in catalog.products_iter_all(batch_size=1000):
        records.append(record)
        if len(records) >= sample:
            break
    t1 = time.perf_counter()
    docs = list(rebuild.documents(records))
    for doc in docs:
        index.weights(doc)
        doc.summary()
    t2 = time.perf_counter()
    ids = [record.product_id for record in records]
    for start in range(0, len(ids), rebuild.BATCH):
        catalog.stock_availability(ids[start:start + rebuild.BATCH])
    t3 = time.perf_counter()
    conn = index.client()
    generation = "bench-breakdown"
    redis_cpu = _redis_cpu()
    t4 = time.perf_counter()
    for doc in docs:
        index.index_product(doc, generations=[generation], conn=conn)
    t5 = time.perf_counter()
    product_cpu = _redis_cpu() - redis_cpu
    for doc in docs:
        index.set_in_stock(doc.product_id, True, 1, generations=[generation], conn=conn)
    t6 = time.perf_counter()
    rebuild.drop_generation(generation, conn)
    n = len(records)
    us = 1e6 / n
    print(f"reindex breakdown per product ({n:,} products): catalogue read {(t1 - t0) * us:.0f} us, "
          f"tokens + summary (Python) {(t2 - t1) * us:.0f} us, stock read {(t3 - t2) * us:.0f} us, "
          f"index script {(t5 - t4) * us:.0f} us ({product_cpu * us:.0f} us of it Redis CPU), "
          f"stock script {(t6 - t5) * us:.0f} us")


def memory(before: int, generation: str, count: int) -> None:
    conn = index.client()
    after = redis_info("memory")["used_memory"]
    delta = after - before
    print(f"memory: Redis used_memory {before / GIB:.2f} GiB before, {after / GIB:.2f} GiB after: index "
          f"{delta / GIB:.2f} GiB = {delta / count:,.0f} bytes/product (target <= 2 GiB for 1M)")
    p = index.prefix(generation)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for key in tqdm(conn.scan_iter(match=p + "*", count=5000), desc="memory: scanning keys", unit="key",
                    mininterval=0.5):
        rest = key[len(p):]
        by_kind[rest.split(":", 1)[0] if ":" in rest else rest].append(key)
    rng = random.Random(1)
    sizes = {"t": "SCARD", "h": "ZCARD", "f": "HLEN", "d": "HLEN"}
    parts = []
    for kind, keys in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        # exact entry counts, memory sampled (every key when there are few)
        entries = 0
        if kind in sizes:
            for start in range(0, len(keys), 5000):
                pipe = conn.pipeline(transaction=False)
                for key in keys[start:start + 5000]:
                    pipe.execute_command(sizes[kind], key)
                entries += sum(pipe.execute())
        sample = keys if len(keys) <= 2000 else rng.sample(keys, 2000)
        pipe = conn.pipeline(transaction=False)
        for key in sample:
            pipe.memory_usage(key, samples=0 if len(keys) > 100 else 1000)
        used = [u or 0 for u in pipe.execute()]
        size = sum(used) * len(keys) / len(sample)
        pipe = conn.pipeline(transaction=False)
        for key in sample[:200]:
            pipe.object("encoding", key)
        encodings = sorted({e for e in pipe.execute() if e})
        per_product = size / count
        parts.append(f"{kind} {len(keys):,} keys{f', {entries:,} entries' if entries else ''} "
                     f"({'/'.join(encodings)}) ~{size / GIB:.3f} GiB = {per_product:,.0f} B/product")
    print("memory by key kind:\n    " + "\n    ".join(parts))
    tokens = by_kind.get("t", [])
    pipe = conn.pipeline(transaction=False)
    for key in tokens:
        pipe.scard(key)
    cards = pipe.execute() if tokens else []
    top = sorted(zip(cards, tokens, strict=True), reverse=True)[:8]
    print("memory: longest token lists: " + ", ".join(f"{k[len(p) + 2:]} {c:,}" for c, k in top))


# --- searching ---------------------------------------------------------------------------------


def _call(body: dict):
    filters = body.get("filters") or {}
    from decimal import Decimal

    return query.search(
        query=body.get("query", ""), category=filters.get("category", ""),
        min_price=Decimal(filters["minPrice"]) if "minPrice" in filters else None,
        max_price=Decimal(filters["maxPrice"]) if "maxPrice" in filters else None,
        in_stock=filters.get("inStock", False), sort=body.get("sort", "relevance"), limit=body.get("limit", 20),
    )


def inprocess(seconds: float, seed: int) -> None:
    rng = random.Random(seed * 31)
    latencies: dict[str, list[float]] = defaultdict(list)
    capped: dict[str, int] = defaultdict(int)
    empty: dict[str, int] = defaultdict(int)
    stats = redis_info("stats")
    redis_cpu = _redis_cpu()
    started = time.perf_counter()
    with tqdm(total=int(seconds), desc="in-process searches", unit="s") as bar:
        while (now := time.perf_counter()) - started < seconds:
            kind, body = gen.query(rng)
            t0 = time.perf_counter()
            result = _call(body)
            latencies[kind].append(time.perf_counter() - t0)
            capped[kind] += result.total_is_lower_bound
            empty[kind] += not result.items
            if int(now - started) > bar.n:
                bar.update(int(now - started) - bar.n)
    elapsed = time.perf_counter() - started
    redis_cpu = _redis_cpu() - redis_cpu
    stats_after = redis_info("stats")
    everything = [v for values in latencies.values() for v in values]
    n = len(everything)
    conns = stats_after["total_connections_received"] - stats["total_connections_received"]
    print(f"in-process (one caller, no HTTP): {n / elapsed:,.0f} searches/s, "
          f"p50 {percentile(everything, 50) * 1e3:.2f} ms, p99 {percentile(everything, 99) * 1e3:.2f} ms; "
          f"Redis CPU {redis_cpu / n * 1e3:.2f} ms/search; "
          f"{conns / n:.2f} new Redis connections/search")
    for kind in gen.QUERY_KINDS:
        values = latencies.get(kind, [])
        if values:
            print(f"    {kind:9} {len(values):6,}  p50 {percentile(values, 50) * 1e3:6.2f} ms  "
                  f"p99 {percentile(values, 99) * 1e3:6.2f} ms  total a lower bound {capped[kind] / len(values):4.0%}  "
                  f"no result {empty[kind] / len(values):4.0%}")


def child_env() -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "0",
            "CATALOG_PRODUCT_STORE": settings.CATALOG_PRODUCT_STORE}


def start(argv: list[str], log_name: str) -> subprocess.Popen:
    log = open(OUT / log_name, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(argv, env=child_env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process itself (uWSGI and Celery then stop their children), its group if
    it takes longer than 30 s."""
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_web(workers: int) -> tuple[subprocess.Popen, str]:
    import urllib.request

    port = free_port()
    proc = start(web_server_argv(port, workers), "web.log")
    host = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(host + "/health", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                stop(proc)
                raise SystemExit(f"the web server did not answer on {host}; see {OUT / 'web.log'}") from None
            time.sleep(0.3)
    return proc, host


def locust(host: str, label: str, users: int, pace: float, seconds: int, seed: int) -> None:
    import csv

    prefix = OUT / f"locust-{label}"
    argv = [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "loadtest" / "search_locustfile.py"),
            "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", host,
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"]
    env = {"SEARCH_LOCUST_PACE": str(pace), "SEARCH_LOCUST_SEED": str(seed)}
    log = open(OUT / "locust.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    for _ in tqdm(range(seconds + 5), desc=f"http: {label}", unit="s", leave=False):
        if proc.poll() is not None:
            break
        time.sleep(1)
    proc.wait(60)
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows["Aggregated"]
    print(f"http {label}: {float(total['Requests/s']):,.0f} searches/s, p50 {total['50%']} ms, p99 {total['99%']} ms, "
          f"max {float(total['Max Response Time']):.0f} ms; {int(total['Failure Count']):,} failures of "
          f"{int(total['Request Count']):,} (target p99 <= 20 ms at >= 500/s)")
    for kind in gen.QUERY_KINDS:
        if kind in rows:
            row = rows[kind]
            print(f"    {kind:9} {int(row['Request Count']):6,}  p50 {row['50%']:>4} ms  p99 {row['99%']:>4} ms  "
                  f"failures {int(row['Failure Count'])}")


def lean_load(host: str, label: str, rate: float, concurrency: int, seconds: int, seed: int) -> None:
    """``loadtest/search_load.py`` (asyncio, open model) against ``host``; prints its report and its CPU."""
    out = OUT / f"load-{label}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, str(ROOT / "loadtest" / "search_load.py"), "--host", host, "--rate", str(rate),
                    "--concurrency", str(concurrency), "--seconds", str(seconds), "--seed", str(seed),
                    "--json", str(out)], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"    the load generator used {cpu / seconds:.0%} of a core")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the web server's workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def http(args) -> None:
    proc, host = start_web(args.web_workers)
    try:
        # every worker imports the search view and opens its Redis connection on its first searches
        subprocess.run([sys.executable, str(ROOT / "loadtest" / "search_load.py"), "--host", host, "--rate", "0",
                        "--concurrency", str(2 * args.web_workers), "--seconds", "3"], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"http: load average before {os.getloadavg()[0]:.2f}; uWSGI {args.web_workers} "
              f"workers; load generator {args.load_generator}")
        cpu, web = _redis_cpu(), _tree_cpu(proc.pid)
        if args.load_generator == "asyncio":
            lean_load(host, f"paced-{args.rate}", args.rate, 0, args.seconds, args.seed)
        else:
            locust(host, f"paced-{args.rate}", args.paced_users, args.rate / args.paced_users, args.seconds,
                   args.seed)
        print(f"    Redis CPU during the paced run: {(_redis_cpu() - cpu) / args.seconds:.0%} of one core; "
              f"uWSGI {(_tree_cpu(proc.pid) - web) / args.seconds:.0%}")
        if args.load_generator == "asyncio":
            lean_load(host, f"max-{args.users}", 0, args.users, args.seconds, args.seed + 1)
        else:
            locust(host, f"max-{args.users}-users", args.users, 0, args.seconds, args.seed + 1)
    finally:
        stop(proc)


# --- freshness ---------------------------------------------------------------------------------


def freshness(args, count: int) -> None:
    bin_dir = Path(sys.executable).parent
    searching = web = None
    if args.freshness_search_rate:
        # searches over HTTP meanwhile, so that index writes wait behind them as they would in production
        web, host = start_web(args.web_workers)
        seconds = int(args.update_seconds + 90)
        (OUT / "load-during-freshness.json").unlink(missing_ok=True)
        searching = subprocess.Popen([sys.executable, str(ROOT / "loadtest" / "search_load.py"), "--host", host,
                                      "--rate", str(args.freshness_search_rate), "--seconds", str(seconds),
                                      "--json", str(OUT / "load-during-freshness.json")], stdout=subprocess.DEVNULL)
    worker = start([str(bin_dir / "celery"), "-A", "config", "worker", "-B", "-s", str(OUT / "beat-schedule"),
                    "-Q", "eventbus,catalog,search", "-c", "2", "-l", "warning", "--without-gossip",
                    "--without-mingle"], "worker.log")
    tag = uuid.uuid4().hex[:4]
    rng = random.Random(args.seed * 17)
    pending: dict[str, tuple[str, int, float]] = {}
    lock = threading.Lock()
    seen: list[float] = []
    done = threading.Event()

    def poller():
        # one search per waiting rename every POLL_S at most: polling harder takes the CPU the worker needs
        while not done.is_set() or pending:
            round_started = time.monotonic()
            with lock:
                items = list(pending.items())
            for token, (pid, version, committed) in items:
                if committed == 0:
                    continue
                found = query.search(query=token, limit=1).items
                if found and found[0]["productId"] == pid and found[0]["version"] >= version:
                    seen.append(time.monotonic() - committed)
                    with lock:
                        del pending[token]
            time.sleep(max(0.0, POLL_S - (time.monotonic() - round_started)))
            if done.is_set() and time.monotonic() > deadline:
                return

    def update(n: int, index_: int) -> None:
        product = gen.product(index_, seed=args.seed)
        token = f"zq{tag}{n}"
        marker: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda: marker.append(time.monotonic()))
            doc = services.product_update(
                product_id=product.product_id, actor_id=product.seller_id, name=f"{product.name} {token}",
                description=product.description, price=product.price, currency=product.currency,
                category=product.category, attributes=product.attributes)
            with lock:
                pending[token] = (str(product.product_id), doc.version, 0)
        with lock:
            pending[token] = (str(product.product_id), doc.version, marker[0])

    try:
        # wait for the worker: one update must come through before the clock starts
        deadline = time.monotonic() + 60
        poll = threading.Thread(target=poller, daemon=True)
        poll.start()
        update(0, rng.randrange(count))
        while pending and time.monotonic() < deadline:
            time.sleep(0.1)
        if pending:
            raise SystemExit(f"freshness: the worker did not index an update within 60 s; see {OUT / 'worker.log'}")
        seen.clear()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = cpu.ru_utime + cpu.ru_stime
        total = int(args.update_rate * args.update_seconds)
        interval = 1 / args.update_rate
        update_times = []
        started = time.monotonic()
        for n in tqdm(range(1, total + 1), desc=f"freshness: {args.update_rate:g} updates/s", unit="update"):
            t0 = time.monotonic()
            update(n, rng.randrange(count))
            update_times.append(time.monotonic() - t0)
            ahead = started + n * interval - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        achieved = total / (time.monotonic() - started)
        deadline = time.monotonic() + 30
        done.set()
        poll.join()
    finally:
        done.set()
        stop(worker)
        if searching:
            searching.terminate()  # it stops sending and writes what it measured
            searching.wait()
        if web:
            stop(web)
    if searching and (OUT / "load-during-freshness.json").exists():
        from loadtest.search_load import report

        report(json.loads((OUT / "load-during-freshness.json").read_text()),
               f"during freshness, offered {args.freshness_search_rate:g}/s")
    missing = len(pending)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = cpu.ru_utime + cpu.ru_stime - cpu_before
    print(f"freshness: {total:,} renames at {achieved:.1f}/s through product_update -> outbox -> worker: "
          f"commit-to-searchable p50 {percentile(seen, 50) * 1e3:.0f} ms, p99 {percentile(seen, 99) * 1e3:.0f} ms, "
          f"max {max(seen, default=float('nan')) * 1e3:.0f} ms; {missing} not searchable 30 s after the last "
          f"(target p99 <= 2,000 ms); product_update itself p50 {percentile(update_times, 50) * 1e3:.1f} ms; "
          f"polled every {POLL_S * 1e3:.0f} ms, the polling process used {own_cpu / (time.monotonic() - started):.0%} "
          f"of a core" + (f"; {args.freshness_search_rate:g} searches/s over HTTP meanwhile"
                           if args.freshness_search_rate else "; no search load"))


# --- cleanup -----------------------------------------------------------------------------------


def delete_postgres_rows(seed: int) -> None:
    low, high = gen.id_range(seed)
    with transaction.atomic(), connection.cursor() as cursor:
        for table, column in (("catalog_stock_movement", "product_id"), ("catalog_stock", "product_id"),
                              ("catalog_product_document", "product_id"), ("catalog_product", "id")):
            cursor.execute(f"DELETE FROM {table} WHERE {column} >= %s AND {column} < %s", [low, high])


def cleanup(args, count: int) -> None:
    started = time.perf_counter()
    delete_postgres_rows(args.seed)
    left = []
    if store_kind() == "cassandra":
        if args.cleanup_cassandra:
            from commerce.shared import cassandra

            session = cassandra.session()
            keyspace = cassandra.keyspace()
            by_id = session.prepare(f"DELETE FROM {keyspace}.products_by_id WHERE product_id = ?")
            by_seller = session.prepare(f"DELETE FROM {keyspace}.products_by_seller WHERE seller_id = ?")
            from cassandra.concurrent import execute_concurrent_with_args

            for start_ in tqdm(range(0, count, 10_000), desc="cleanup: Cassandra", unit="x10k"):
                ids = [(gen.product_uuid(i, args.seed),) for i in range(start_, min(count, start_ + 10_000))]
                execute_concurrent_with_args(session, by_id, ids, concurrency=64)
            execute_concurrent_with_args(session, by_seller, [(gen.seller_uuid(i, args.seed),)
                                                              for i in range(gen.SELLERS)], concurrency=64)
        else:
            left.append(f"{count:,} documents in Cassandra (ids {gen.id_range(args.seed)[0]}..; "
                        "--cleanup-cassandra deletes them)")
    empty_search_db(index.client())
    settings.CATALOG_PRODUCT_STORE = ORIGINAL_STORE  # the dev index again, from the store `make up` uses
    from commerce.catalog.store import reset_product_store

    reset_product_store()
    _, remaining = rebuild.rebuild()
    left.append("the outbox events, dispatches and inbox rows of the freshness renames (pruned after 72 h)")
    print(f"cleanup: {time.perf_counter() - started:.0f} s; search index rebuilt with the {remaining:,} products "
          f"left; left behind: " + "; ".join(left))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--store", choices=sorted(STORES), help="product store (default: the configured one)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed; also picks the id range")
    parser.add_argument("--threads", type=int, default=32, help="threads writing Cassandra documents")
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated subset of " + ",".join(PHASES))
    parser.add_argument("--breakdown-sample", type=int, default=20_000)
    parser.add_argument("--inprocess-seconds", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=60, help="each locust run")
    parser.add_argument("--rate", type=int, default=500, help="offered searches/s in the paced locust run")
    parser.add_argument("--paced-users", type=int, default=50)
    parser.add_argument("--users", type=int, default=16, help="callers of the back-to-back locust run")
    parser.add_argument("--web-workers", type=int, default=3, help="uWSGI worker processes (the Procfile: 3)")
    parser.add_argument("--load-generator", choices=("asyncio", "locust"), default="asyncio",
                        help="loadtest/search_load.py (lean, open model) or loadtest/search_locustfile.py")
    parser.add_argument("--update-rate", type=float, default=20)
    parser.add_argument("--update-seconds", type=float, default=30)
    parser.add_argument("--freshness-search-rate", type=float, default=0,
                        help="searches/s over HTTP (loadtest/search_load.py) while freshness is measured")
    parser.add_argument("--cleanup-cassandra", action="store_true")
    parser.add_argument("--cassandra-protocol", type=int,
                        help="native protocol version for this process (4 works around a paging failure of the "
                             "asyncio connection with protocol 5, see docs/search.md)")
    args = parser.parse_args()
    if args.cassandra_protocol:
        settings.DATABASES["cassandra"]["OPTIONS"]["connection"]["protocol_version"] = args.cassandra_protocol
    phases = args.phases.split(",")
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if settings.DEBUG:
        raise SystemExit("run with DJANGO_DEBUG=0: debug mode keeps every query in memory")
    search_kwargs = index.client().connection_pool.connection_kwargs
    broker = urlsplit(settings.REDIS_URL)
    if (search_kwargs.get("port"), search_kwargs.get("db", 0)) == (broker.port, int(broker.path.strip("/") or 0)):
        raise SystemExit("SEARCH_REDIS_URL is the broker's database: this script empties it")
    OUT.mkdir(parents=True, exist_ok=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"search benchmark: {args.products:,} products (seed {args.seed}), product store {store_kind()}, "
          f"{os.cpu_count()} CPUs; words per product: "
          f"{statistics.mean(len(text.words(p.name)) for p in gen.generate(2000, seed=args.seed)):.1f} in the name")
    if "load" in phases:
        load(args.products, args.seed, args.threads)
    built = None
    if "reindex" in phases:
        built = reindex()
        rebuild_breakdown(min(args.breakdown_sample, built["count"]))
    if "memory" in phases:
        if built is None:
            raise SystemExit("memory needs reindex in the same run (the baseline is taken before the rebuild)")
        memory(built["before"], built["generation"], built["count"])
    if "inprocess" in phases:
        inprocess(args.inprocess_seconds, args.seed)
    if "http" in phases:
        http(args)
    if "freshness" in phases:
        freshness(args, args.products)
    if "cleanup" in phases:
        cleanup(args, args.products)


if __name__ == "__main__":
    main()
