"""Product store benchmark: the Cassandra store next to the PostgreSQL store, in one run.

    .venv/bin/python loadtest/store_bench.py [--products 2000] [--threads 8] [--restart-node]

For each store: product updates through the catalog service (PostgreSQL transaction with the
outbox event, then the store write) and raw store upserts; product reads through the service
(document + stock) and raw store reads; each with 8 threads, as operations/s and p50/p99. Then
the Cassandra node's resident memory and, with --restart-node, its start time (stop, start, wait
for CQL). Uses the local services of `make services`; run with DJANGO_DEBUG=0. It creates its
products under a throwaway seller id and leaves them (they are few).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from dataclasses import replace  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from tqdm import tqdm  # noqa: E402

from commerce.catalog import selectors, services  # noqa: E402
from commerce.catalog.store import product_store, reset_product_store  # noqa: E402

STORES = {
    "postgres": "commerce.catalog.store.PostgresProductStore",
    "cassandra": "commerce.catalog.cassandra_store.CassandraProductStore",
}
FIELDS = {"description": "benchmark product", "price": Decimal("12900.00"), "currency": "KRW",
          "category": "electronics", "attributes": {"color": "black", "weight_g": 52}}


def hammer(label: str, items: list, threads: int, operation) -> str:
    """Run ``operation(item)`` over ``items`` from ``threads`` threads; ops/s, p50, p99."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(items)
    bar = tqdm(total=len(items), desc=label, leave=False)

    def worker():
        own = []
        while True:
            with lock:
                if not queue:
                    break
                item = queue.pop()
            started = time.perf_counter()
            operation(item)
            own.append(time.perf_counter() - started)
            bar.update()
        with lock:
            latencies.extend(own)
        connections.close_all()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    bar.close()
    return (f"{len(items) / elapsed:8,.0f} ops/s  p50 {percentile(latencies, 50) * 1000:6.2f} ms"
            f"  p99 {percentile(latencies, 99) * 1000:6.2f} ms")


def bench_store(kind: str, products: int, threads: int) -> None:
    settings.CATALOG_PRODUCT_STORE = STORES[kind]
    reset_product_store()
    seller = uuid.uuid4()
    created = [services.product_create(seller_id=seller, name=f"bench {kind} {i}", stock=10, **FIELDS)
               for i in tqdm(range(products), desc=f"{kind}: creating", leave=False)]
    ids = [doc.product_id for doc in created]
    print(f"{kind:9} service update (PG txn + outbox + store) "
          + hammer("update", ids, threads, lambda pid: services.product_update(
              product_id=pid, actor_id=seller, name="renamed", **FIELDS)))
    store = product_store()
    docs = [replace(doc, version=doc.version + 100) for doc in created]
    print(f"{kind:9} store upsert                             " + hammer("upsert", docs, threads, store.put))
    print(f"{kind:9} service read (document + stock)          "
          + hammer("read", ids * 3, threads, lambda pid: selectors.product_get(product_id=pid)))
    print(f"{kind:9} store read                               " + hammer("get", ids * 3, threads, store.get))


def node_rss_mib() -> float | None:
    pid_file = ROOT / ".data" / "cassandra" / "cassandra.pid"
    try:
        pid = pid_file.read_text().strip()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--restart-node", action="store_true", help="also time a stop and start of the node")
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("sync_cassandra", database="cassandra", verbosity=0)
    for kind in ("postgres", "cassandra"):
        bench_store(kind, args.products, args.threads)
    rss = node_rss_mib()
    print(f"cassandra node resident memory: {rss:,.0f} MiB" if rss else "cassandra node: no pid file")
    if args.restart_node:
        subprocess.run([str(ROOT / "scripts" / "cassandra.sh"), "stop"], check=True)
        started = time.perf_counter()
        subprocess.run([str(ROOT / "scripts" / "cassandra.sh"), "start"], check=True)
        print(f"cassandra node start (existing data) until CQL answers: {time.perf_counter() - started:.1f} s;"
              f" resident memory after start: {node_rss_mib() or 0:,.0f} MiB")


if __name__ == "__main__":
    main()
