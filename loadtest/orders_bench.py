"""Order benchmark against the README's stack (`make up`): accepted orders/s and the latency of
POST /order/process-order at a steady arrival rate, then how fast accepted orders become
CONFIRMED (stock reserved, paid through the gateway simulator) end to end.

    make up                                    # in another terminal (web, workers, simulators)
    DJANGO_DEBUG=0 .venv/bin/python loadtest/orders_bench.py --rate 500 --seconds 30

Setup goes through the HTTP API like any client: ``--buyers`` buyers register, log in, save the
test card 4242 4242 4242 4242 and an address; a seller lists ``--products`` products with a
large stock. The load is open-loop: requests start on a fixed schedule (``--rate`` per second)
whether or not earlier ones have answered, from one asyncio process (plain streams, one connection
per request), and each latency counts from when its request was due, so a slow server shows up as
latency instead of as a lower offered rate. Each order has 1-3 lines.

End to end, an order's time to CONFIRMED is measured in the database the stack uses (this
script's Django settings): from the order's ``created_at`` to the ``occurred_at`` of its
``orders.order_confirmed`` event. Output: offered and accepted rates, status codes, p50/p90/p99
of the POST (overall and per ``--window`` seconds of the run), then confirmed orders/s over the
window and p50/p99 of the confirmation time.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

PASSWORD = "bench-password-not-secret"
TEST_CARD = "4242424242424242"  # the contract's always-approved test number


async def call(session, method, url, *, token=None, json=None, expect=(200, 201, 202)):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, url, json=json, headers=headers) as response:
        body = await response.json(content_type=None)
        if response.status not in expect:
            raise RuntimeError(f"{method} {url}: {response.status} {body}")
        return body


async def member(session, host, role, run):
    email = f"bench-{role}-{run}-{uuid.uuid4().hex[:10]}@example.com"
    await call(session, "POST", f"{host}/member/registration",
               json={"email": email, "password": PASSWORD, "name": f"Bench {role}", "role": role})
    login = await call(session, "POST", f"{host}/member/login", json={"email": email, "password": PASSWORD})
    return login["token"]


async def setup(host, buyers, products, concurrency):
    run = uuid.uuid4().hex[:6]
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        seller = await member(session, host, "seller", run)
        product_ids = []

        async def one_product(i):
            async with limit:
                body = await call(session, "POST", f"{host}/catalog/products", token=seller, json={
                    "name": f"Bench item {i}", "description": "Load test product.", "price": f"{1000 + i}.00",
                    "currency": "KRW", "category": "electronics", "stock": 1_000_000})
                product_ids.append(body["productId"])

        async def one_buyer(i):
            async with limit:
                token = await member(session, host, "buyer", run)
                method = await call(session, "POST", f"{host}/payment/methods", token=token, json={
                    "type": "card", "cardNumber": TEST_CARD, "expMonth": 12, "expYear": 2035,
                    "holderName": "Bench Buyer"})
                address = await call(session, "POST", f"{host}/delivery/addresses", token=token, json={
                    "recipient": "Bench Buyer", "phone": "+821000000000", "line1": "1 Bench Street",
                    "city": "Seoul", "postalCode": "04524", "country": "KR"})
                return token, method["methodId"], address["addressId"]

        await asyncio.gather(*(one_product(i) for i in range(products)))
        shoppers = await asyncio.gather(*(one_buyer(i) for i in range(buyers)))
    return product_ids, shoppers


async def load(host, rate, seconds, product_ids, shoppers, seed):
    """Open loop over plain asyncio streams on uvloop's event loop, one connection per request as
    the web server's workers close them anyway. CPU per request here: aiohttp about 1 ms, these
    streams on asyncio's own loop 0.6 ms, on uvloop 0.45 ms; this process shares the box with the
    server. A request's latency counts from when it was due, so a generator or server falling
    behind shows."""
    target = urlsplit(host)
    rng = random.Random(seed)
    latencies: list[tuple[float, float]] = []  # (due, seconds from due to answer)
    statuses: Counter = Counter()
    accepted: list[str] = []

    def request_bytes(token, body):
        payload = json.dumps(body).encode()
        return (f"POST /order/process-order HTTP/1.1\r\nHost: {target.netloc}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload

    async def one(raw, due):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(target.hostname, target.port), 30)
            writer.write(raw)
            answer = await asyncio.wait_for(reader.read(-1), 30)
            writer.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            status = int(head[9:12] or 0)
            statuses[status] += 1
            if status == 202:
                accepted.append(json.loads(body)["orderId"])
        except (OSError, TimeoutError, ValueError) as exc:
            statuses[type(exc).__name__] += 1
        latencies.append((due, time.perf_counter() - due))

    tasks = []
    total = int(rate * seconds)
    start = time.perf_counter()
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        token, method_id, address_id = rng.choice(shoppers)
        lines = rng.sample(product_ids, rng.randint(1, 3))
        body = {"items": [{"productId": p, "quantity": rng.randint(1, 2)} for p in lines],
                "paymentMethodId": method_id, "addressId": address_id}
        tasks.append(asyncio.create_task(one(request_bytes(token, body), due)))
        if n % max(1, int(rate)) == 0:
            print(f"\r  load: {n}/{total} sent, {len(accepted)} accepted", end="", flush=True)
    sent_for = time.perf_counter() - start
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    print()
    return [(due - start, took) for due, took in latencies], statuses, accepted, sent_for, elapsed


def confirmations(order_ids, wait_seconds):
    import django

    django.setup()
    from commerce.eventbus.models import OutboxEvent
    from commerce.orders.models import Order

    deadline = time.monotonic() + wait_seconds
    while True:
        counts = Counter(Order.objects.filter(id__in=order_ids).values_list("status", flat=True))
        print(f"\r  saga: {dict(counts)}", end="", flush=True)
        if counts.get("PENDING", 0) == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    print()
    created = dict(Order.objects.filter(id__in=order_ids).values_list("id", "created_at"))
    confirmed_at = {uuid.UUID(a): t for a, t in OutboxEvent.objects.filter(
        name="orders.order_confirmed", aggregate_id__in=[str(o) for o in order_ids]).values_list(
        "aggregate_id", "occurred_at")}
    times = [(confirmed_at[o] - created[o]).total_seconds() for o in confirmed_at]
    window = None
    if confirmed_at:
        window = (max(confirmed_at.values()) - min(created.values())).total_seconds()
    return counts, times, window


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--rate", type=float, default=500, help="orders offered per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--setup-concurrency", type=int, default=8)
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the saga to settle")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window", type=float, default=5, help="seconds per window of the latency timeline")
    parser.add_argument("--warmup", type=float, default=3,
                        help="seconds of load at the same rate before the measured run (not counted)")
    parser.add_argument("--setup-file", type=Path,
                        help="keep the buyers and products here and reuse them on the next run (repeated runs "
                             "skip the minute of registrations; delete the file after a database reset or a restart of "
                             "the gateway simulator, which forgets its card tokens)")
    args = parser.parse_args()
    if args.window <= 0:
        parser.error("--window must be more than 0 seconds")

    t0 = time.perf_counter()
    if args.setup_file and args.setup_file.exists():
        saved = json.loads(args.setup_file.read_text())
        product_ids, shoppers = saved["products"], [tuple(s) for s in saved["shoppers"]]
        print(f"setup: {len(shoppers)} buyers and {len(product_ids)} products from {args.setup_file}")
    else:
        product_ids, shoppers = asyncio.run(setup(args.host, args.buyers, args.products, args.setup_concurrency))
        print(f"setup: {len(shoppers)} buyers with a card and an address, {len(product_ids)} products "
              f"in {time.perf_counter() - t0:.1f} s")
        if args.setup_file:
            args.setup_file.write_text(json.dumps({"products": product_ids, "shoppers": shoppers}))

    if args.warmup > 0:
        uvloop.run(load(args.host, args.rate, args.warmup, product_ids, shoppers, args.seed + 1))
    latencies, statuses, accepted, sent_for, elapsed = uvloop.run(
        load(args.host, args.rate, args.seconds, product_ids, shoppers, args.seed))
    ms = [took * 1000 for _, took in latencies]
    print(f"POST /order/process-order: offered {len(latencies)} at {len(latencies) / sent_for:.0f}/s; "
          f"accepted {len(accepted)} = {len(accepted) / elapsed:.0f}/s; statuses {dict(statuses)}")
    print(f"  latency ms: p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}  "
          f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}")
    windows: dict[int, list[float]] = {}
    for due, took in latencies:
        windows.setdefault(int(due // args.window), []).append(took * 1000)
    print(f"  p50 / p99 ms per {args.window:g} s of the run: " + "  ".join(
        f"{percentile(v, 50):.0f}/{percentile(v, 99):.0f}" for _, v in sorted(windows.items())))

    counts, times, window = confirmations([uuid.UUID(o) for o in accepted], args.wait)
    if times:
        print(f"end to end: {len(times)} CONFIRMED (or later) in {window:.1f} s = {len(times) / window:.0f}/s; "
              f"accepted -> CONFIRMED p50 {percentile(times, 50) * 1000:.0f} ms, "
              f"p99 {percentile(times, 99) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; final {dict(counts)}")
    else:
        print(f"end to end: nothing confirmed; final {dict(counts)}")


if __name__ == "__main__":
    main()
