"""A lean HTTP load generator for POST /catalog/search: the buyers' query mix of ``loadtest/products.py``
at a fixed offered rate (open model), from one asyncio process.

    .venv/bin/python loadtest/search_load.py --host http://127.0.0.1:8000 --rate 500 --seconds 60

Request n is due at start + n / rate whether or not earlier ones have answered, and its latency is
counted from that moment, so a server that falls behind shows it in the percentiles instead of
slowing the load down (no coordinated omission). With ``--rate 0`` it runs ``--concurrency`` callers
back to back instead. Each request is a new connection (the web server closes it anyway),
written and read with plain asyncio streams on uvloop's event loop: far less CPU per request than locust, which matters
when the generator shares the server's cores. A response counts as failed unless it is 200 and
its body has items, total and facets (one in ``--check-every`` bodies is fully decoded).
Prints throughput, p50/p99/max and failures, overall and per query kind; ``--json`` writes them too.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loadtest.common import percentile  # noqa: E402
from loadtest.products import QUERY_KINDS, query  # noqa: E402


class Load:
    def __init__(self, host: str, port: int, check_every: int):
        self.host, self.port, self.check_every = host, port, check_every
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.sent = 0
        self.slow: list[tuple[float, float]] = []  # (due, latency) of the answers over 50 ms
        self.started = time.perf_counter()

    def request_bytes(self, body: dict) -> bytes:
        payload = json.dumps(body, ensure_ascii=False).encode()
        return (f"POST /catalog/search HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json"
                f"\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode() + payload

    async def one(self, kind: str, raw: bytes, due: float) -> None:
        self.sent += 1
        ok = False
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            writer.write(raw)
            answer = await reader.read(-1)
            writer.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            ok = head.startswith(b"HTTP/1.1 200") and b'"items"' in body and b'"total"' in body and (
                b'"facets":{"category"' in body)
            if ok and self.sent % self.check_every == 0:
                decoded = json.loads(body)
                ok = isinstance(decoded["items"], list) and "category" in decoded["facets"]
            if not ok:
                self.errors[head.split(b"\r\n", 1)[0].decode(errors="replace")[:40]] += 1
        except OSError as exc:
            self.errors[type(exc).__name__] += 1
        latency = time.perf_counter() - due
        self.latencies[kind].append(latency)
        if latency > 0.05 and len(self.slow) < 10_000:
            self.slow.append((round(due - self.started, 3), round(latency * 1e3, 1)))
        if not ok:
            self.failures[kind] += 1


async def run(args) -> dict:
    url = urlsplit(args.host)
    load = Load(url.hostname, url.port or 80, args.check_every)
    rng = random.Random(args.seed)
    requests = [(kind, load.request_bytes(body)) for kind, body in (query(rng) for _ in range(20_000))]
    pending: set[asyncio.Task] = set()
    started = load.started = time.perf_counter()
    deadline = started + args.seconds
    stop = asyncio.Event()  # SIGTERM: stop sending, let the requests out finish, report what was measured
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    n = 0
    if args.rate > 0:
        limit = asyncio.Semaphore(args.max_in_flight)

        async def paced(kind, raw, due):
            async with limit:
                await load.one(kind, raw, due)

        while True:
            due = started + n / args.rate
            if due >= deadline or stop.is_set():
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, raw = requests[n % len(requests)]
            task = asyncio.create_task(paced(kind, raw, due))
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
    else:
        async def caller(offset):
            k = offset
            while time.perf_counter() < deadline and not stop.is_set():
                kind, raw = requests[k % len(requests)]
                k += args.concurrency
                await load.one(kind, raw, time.perf_counter())

        pending = {asyncio.create_task(caller(c)) for c in range(args.concurrency)}
    if pending:
        await asyncio.wait(pending)
    elapsed = time.perf_counter() - started
    everything = [v for values in load.latencies.values() for v in values]
    failures = sum(load.failures.values())
    result = {"offered": args.rate, "seconds": elapsed, "requests": len(everything),
              "per_second": len(everything) / elapsed, "failures": failures, "errors": dict(load.errors),
              "p50_ms": percentile(everything, 50) * 1e3, "p99_ms": percentile(everything, 99) * 1e3,
              "max_ms": max(everything, default=float("nan")) * 1e3,
              "p90_ms": percentile(everything, 90) * 1e3, "p95_ms": percentile(everything, 95) * 1e3,
              "slow": load.slow, "kinds": {}}
    for kind in QUERY_KINDS:
        values = load.latencies.get(kind, [])
        if values:
            result["kinds"][kind] = {"requests": len(values), "p50_ms": percentile(values, 50) * 1e3,
                                     "p99_ms": percentile(values, 99) * 1e3, "failures": load.failures[kind]}
    return result


def report(result: dict, label: str) -> None:
    print(f"http {label}: {result['per_second']:,.0f} searches/s, p50 {result['p50_ms']:.1f} ms, "
          f"p90 {result['p90_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
          f"max {result['max_ms']:.0f} ms; {result['failures']:,} failures of "
          f"{result['requests']:,} (target p99 <= 20 ms at >= 500/s)" +
          (f"; errors {result['errors']}" if result["errors"] else ""))
    for kind, row in result["kinds"].items():
        print(f"    {kind:9} {row['requests']:6,}  p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
              f"failures {row['failures']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, default=500, help="offered searches/s (0: back to back)")
    parser.add_argument("--concurrency", type=int, default=16, help="callers when --rate 0")
    parser.add_argument("--max-in-flight", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check-every", type=int, default=20)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    result = uvloop.run(run(args))
    report(result, f"offered {args.rate:g}/s" if args.rate else f"{args.concurrency} callers")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
