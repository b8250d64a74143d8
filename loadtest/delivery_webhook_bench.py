"""Carrier webhook benchmark: how many signed notifications per second POST /delivery/carrier-webhook
takes, with the real web server (uWSGI) and PostgreSQL; and how many bookings per second the carrier simulator
answers (it must never be the bottleneck).

    .venv/bin/python loadtest/delivery_webhook_bench.py [--deliveries 1000] [--concurrency 32] [--workers 4]

Runs against the services of `make services` (database `commerce`, migrated here); run it with
DJANGO_DEBUG=0. It EMPTIES the delivery tables and deletes the delivery events from the outbox.
Each delivery gets SHIPPED, IN_TRANSIT, DELIVERED (in that order) and one duplicate of SHIPPED
(4 requests); deliveries run in parallel up to --concurrency. Prints requests/s, latency
percentiles, and checks the end state (every delivery DELIVERED at version 4, 3 events each).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import free_port, percentile, web_server_argv  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import aiohttp  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from commerce.delivery.carrier import SIGNATURE_HEADER, signature  # noqa: E402
from commerce.delivery.models import Delivery  # noqa: E402

EVENT = "delivery.status_changed"


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"child exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE delivery_status_change, delivery_delivery, delivery_carrier_event,"
                       " delivery_order_cancellation")
        cursor.execute("DELETE FROM eventbus_outbox WHERE name = %s", [EVENT])


def make_deliveries(count: int) -> list[str]:
    rows = [Delivery(order_id=uuid.uuid4(), buyer_id=uuid.uuid4(), address={"line1": "x", "country": "KR"},
                     status="REQUESTED", version=1) for _ in range(count)]
    Delivery.objects.bulk_create(rows, batch_size=1000)
    return [str(row.id) for row in rows]


async def post_all(url: str, deliveries: list[str], concurrency: int) -> tuple[list[float], dict[int, int]]:
    secret = settings.DELIVERY["CARRIER_WEBHOOK_SECRET"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for delivery_id in deliveries:
        queue.put_nowait(delivery_id)

    async def one(session, body: bytes) -> None:
        started = time.perf_counter()
        async with session.post(url, data=body, headers={"Content-Type": "application/json",
                                                         SIGNATURE_HEADER: signature(secret, body)}) as response:
            await response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        latencies.append(time.perf_counter() - started)

    async def worker(session) -> None:
        while not queue.empty():
            delivery_id = queue.get_nowait()
            bodies = []
            for status in ("SHIPPED", "IN_TRANSIT", "DELIVERED"):
                bodies.append(json.dumps({"eventId": f"evt_{uuid.uuid4().hex}", "shipmentKey": delivery_id,
                                          "trackingNumber": "SIMBENCH", "status": status,
                                          "occurredAt": "2026-11-24T10:00:00Z"}).encode())
            for body in (*bodies, bodies[0]):  # the last one is a duplicate
                await one(session, body)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return latencies, statuses


async def book_all(url: str, count: int, concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(session, n: int) -> None:
        async with semaphore, session.post(f"{url}/shipments", json={
                "shipmentKey": f"bench-{n}-{uuid.uuid4().hex}", "address": {"line1": "x", "country": "KR"},
                "lines": []}) as response:
            assert response.status == 201, response.status

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(session, n) for n in range(count)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="uWSGI worker processes")
    parser.add_argument("--bookings", type=int, default=5000, help="bookings sent to the simulator")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    reset()
    deliveries = make_deliveries(args.deliveries)
    log_dir = ROOT / ".data"
    log_dir.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    port, carrier_port = free_port(), free_port()
    with open(log_dir / "delivery-bench-web.log", "ab") as web_log, \
            open(log_dir / "delivery-bench-carrier.log", "ab") as carrier_log:
        web = subprocess.Popen(web_server_argv(port, args.workers), env=env, cwd=ROOT, stdout=web_log,
                               stderr=subprocess.STDOUT)
        carrier = subprocess.Popen([sys.executable, "-m", "simulators.carrier", "--port", str(carrier_port),
                                    "--manual", "--webhook-url", "http://127.0.0.1:9/"],
                                   env=env, cwd=ROOT, stdout=carrier_log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, web)
            wait_for_port(carrier_port, carrier)
            url = f"http://127.0.0.1:{port}/delivery/carrier-webhook"
            started = time.perf_counter()
            latencies, statuses = asyncio.run(post_all(url, deliveries, args.concurrency))
            elapsed = time.perf_counter() - started
            print(f"webhooks: {len(latencies)} requests in {elapsed:.1f} s = {len(latencies) / elapsed:.0f}/s "
                  f"({args.workers} uWSGI workers, {args.concurrency} in flight); statuses {statuses}")
            print(f"  latency ms p50 {percentile(latencies, 50) * 1000:.1f}  p95 {percentile(latencies, 95) * 1000:.1f}"
                  f"  p99 {percentile(latencies, 99) * 1000:.1f}")
            done = Delivery.objects.filter(status="DELIVERED", version=4).count()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM eventbus_outbox WHERE name = %s", [EVENT])
                events = cursor.fetchone()[0]
            print(f"  end state: {done}/{len(deliveries)} DELIVERED at version 4; {events} events "
                  f"(expected {3 * len(deliveries)})")

            for concurrency in (64, 256):
                seconds = asyncio.run(book_all(f"http://127.0.0.1:{carrier_port}", args.bookings, concurrency))
                print(f"simulator: {args.bookings} bookings, {concurrency} in flight: {seconds:.1f} s = "
                      f"{args.bookings / seconds:.0f}/s")
        finally:
            for proc in (web, carrier):
                proc.terminate()
                proc.wait(20)
            reset()


if __name__ == "__main__":
    main()
