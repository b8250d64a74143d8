"""Catalog reservation benchmark: reservations/s through the real handler path, lock wait p99.

    .venv/bin/python loadtest/catalog_bench.py [--orders 20000] [--processes 4]

Runs against the local PostgreSQL of `make services` (database `commerce`; the script migrates it); run it with
DJANGO_DEBUG=0. Scenarios: (a) orders spread over 10,000 products, (b) every order for one hot
product; each with the default relay batch (the handler takes a batch per transaction) and with
one order per transaction. Orders go through the outbox, the relay, and ``deliver()`` (inbox,
stream locks, the catalog handler) in several processes at once; the script then checks that
nothing was oversold and that the ledger adds up.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import F, Sum  # noqa: E402
from tqdm import tqdm  # noqa: E402

from commerce.catalog import services  # noqa: E402
from commerce.catalog.models import OrderStock, Stock, StockMovement  # noqa: E402
from commerce.eventbus import publish  # noqa: E402
from commerce.eventbus.delivery import deliver  # noqa: E402
from commerce.eventbus.relay import relay_once  # noqa: E402
from commerce.orders.events import OrderLine, OrderPlaced  # noqa: E402

SELLER = uuid.UUID("00000000-0000-4000-8000-00000000beef")


def reset():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE eventbus_outbox, eventbus_dispatch, eventbus_inbox, catalog_order_stock,"
                       " catalog_reservation, catalog_stock_movement, catalog_stock, catalog_product,"
                       " catalog_product_document")


def make_products(count: int, stock: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany("INSERT INTO catalog_product (id, seller_id, version) VALUES (%s, %s, 1)",
                           [(pid, SELLER) for pid in ids])
        cursor.executemany("INSERT INTO catalog_stock (product_id, seller_id, on_hand, reserved, version)"
                           " VALUES (%s, %s, %s, 0, 1)", [(pid, SELLER, stock) for pid in ids])
        cursor.executemany("INSERT INTO catalog_stock_movement (product_id, kind, on_hand_delta, reserved_delta,"
                           " reason, request_key) VALUES (%s, 'adjust', %s, 0, 'benchmark stock', '')",
                           [(pid, stock) for pid in ids])
    return ids


def publish_orders(products: list[uuid.UUID], orders: int) -> None:
    for start in tqdm(range(0, orders, 500), desc="publishing orders", unit="x500", leave=False):
        with transaction.atomic():
            for _ in range(min(500, orders - start)):
                product = random.choice(products)
                publish(OrderPlaced(aggregate_id=str(uuid.uuid4()), aggregate_version=1, buyer_id=str(uuid.uuid4()),
                                    lines=(OrderLine(product_id=str(product), quantity=1),)))


def relay(batch_size: int) -> list:
    sends: list = []
    while relay_once(batch_size=batch_size, sender=sends.extend) > 0:
        pass
    return [s for s in sends if s.handler == "catalog.order_stock"]


def _work(args):
    sends, queue = args
    connections.close_all()
    waits: list[float] = []
    services.lock_wait_observer = waits.append
    for send in sends:
        while deliver(send.dispatch_id, send.handler, send.partition).busy:
            time.sleep(0.001)
        queue.put(1)
    return waits


def run(label: str, products: list[uuid.UUID], orders: int, relay_batch: int, processes: int) -> None:
    publish_orders(products, orders)
    sends = relay(relay_batch)
    connection.close()
    shares = [sends[i::processes] for i in range(processes)]
    manager = multiprocessing.Manager()
    queue = manager.Queue()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        started = time.perf_counter()
        result = pool.map_async(_work, [(share, queue) for share in shares])
        with tqdm(total=len(sends), desc=label, unit="dispatch", leave=False) as bar:
            while not result.ready():
                while not queue.empty():
                    queue.get()
                    bar.update()
                time.sleep(0.05)
        waits = [w for per_process in result.get() for w in per_process]
        elapsed = time.perf_counter() - started
    reserved = OrderStock.objects.filter(status=OrderStock.RESERVED).count()
    rejected = OrderStock.objects.filter(status=OrderStock.REJECTED).count()
    oversold = Stock.objects.filter(reserved__gt=F("on_hand")).count()
    ledger = StockMovement.objects.filter(kind="reserve").aggregate(total=Sum("reserved_delta"))["total"] or 0
    held = Stock.objects.aggregate(total=Sum("reserved"))["total"] or 0
    p50, p99 = percentile(waits, 50) * 1000, percentile(waits, 99) * 1000
    print(f"{label}: {orders / elapsed:,.0f} orders/s handled ({reserved:,} reserved, {rejected:,} refused) "
          f"in {len(sends):,} dispatches by {processes} processes; lock wait p50 {p50:.2f} ms, p99 {p99:.2f} ms; "
          f"oversold products {oversold}; reserve ledger {ledger:,} == held {held:,}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--relay-batches", default="1000,4",
                        help="relay batch sizes to try; 4 makes about one order per transaction")
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the local database may predate the newest migrations
    for relay_batch in [int(b) for b in args.relay_batches.split(",")]:
        mode = f"relay batch {relay_batch}"
        reset()
        run(f"(a) 10,000 distinct products, {mode}", make_products(10_000, 1_000), args.orders, relay_batch,
            args.processes)
        reset()
        hot = make_products(1, args.orders // 2)  # half the orders can be served: refusals are exercised too
        run(f"(b) one hot product, {mode}", hot, args.orders, relay_batch, args.processes)
    reset()


if __name__ == "__main__":
    main()
