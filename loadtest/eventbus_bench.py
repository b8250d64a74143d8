"""Event bus benchmark: publish cost, relay+handle throughput and outbox lag, with real workers.

    .venv/bin/python loadtest/eventbus_bench.py [--events 100000] [--rate 4000] [--seconds 20]

Runs against the local PostgreSQL/Redis of `make services` (database `commerce`; the script migrates it); run
it with DJANGO_DEBUG=0 (Django's debug mode records every query). It empties the event bus tables.
Prints: publish cost per event inside the writer's transaction; events/s published by concurrent
writers; backlog drain rate (relayed + handled per second) with one Celery message per event
("before": relay batch of 1) and per batch ("after": the default relay batch); outbox-to-handler
lag p50/p99 under a steady publish rate.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["EVENTBUS_EXTRA_HANDLER_MODULES"] = "loadtest.bench_handlers"

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from tqdm import tqdm  # noqa: E402

from commerce.eventbus import publish  # noqa: E402
from commerce.eventbus.signals import redis_client  # noqa: E402
from loadtest.bench_handlers import LAG_KEY, BenchTicked  # noqa: E402


def reset():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE eventbus_outbox, eventbus_dispatch, eventbus_inbox")
    redis_client().delete(LAG_KEY)


def start_worker(extra_env: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, **extra_env}
    log = open(ROOT / ".data" / "bench-worker.log", "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-B",
         "-s", str(ROOT / ".data" / "bench-beat"), "-Q", "eventbus,bench",
         "-c", os.environ.get("CELERY_CONCURRENCY", "2"),
         "-l", os.environ.get("BENCH_WORKER_LOG_LEVEL", "warning"), "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def wait_handled(count: int, label: str, timeout: float = 600) -> float:
    """Wait until ``count`` events were handled; returns the handling rate, events/s, measured
    from the first handled event (worker start-up time is not the bus's throughput)."""
    started = time.monotonic()
    client = redis_client()
    first_at = first_count = None
    with tqdm(total=count, desc=label, unit="ev", leave=False) as bar:
        done = 0
        while done < count:
            if time.monotonic() - started > timeout:
                raise SystemExit(f"{label}: only {done}/{count} handled after {timeout}s")
            time.sleep(0.05)
            now_done = client.llen(LAG_KEY)
            if now_done and first_at is None:
                first_at, first_count = time.monotonic(), now_done
            bar.update(now_done - done)
            done = now_done
    if first_count == count:  # all handled between two looks: fall back to the whole wait
        return count / (time.monotonic() - started)
    return (count - first_count) / (time.monotonic() - first_at)


def publish_cost(n: int) -> float:
    """Milliseconds per publish() inside one open transaction (the writer's cost)."""
    reset()
    events = [BenchTicked(aggregate_id=f"a{i % 1000}", seq=i) for i in range(n)]
    with transaction.atomic():
        started = time.perf_counter()
        for event in events:
            publish(event)
        elapsed = time.perf_counter() - started
    reset()
    return elapsed / n * 1000


def _writer(args):
    count, per_txn, rate, offset = args
    django.db.connections.close_all()
    interval = per_txn / rate if rate else 0
    started = time.perf_counter()
    for i in range(0, count, per_txn):
        with transaction.atomic():
            for seq in range(i, min(i + per_txn, count)):
                publish(BenchTicked(aggregate_id=f"a{(offset + seq) % 5000}", seq=offset + seq))
        if interval:
            ahead = started + (i + per_txn) / per_txn * interval - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
    return time.perf_counter() - started


def concurrent_publish(total: int, writers: int, per_txn: int, rate: float = 0) -> float:
    per_writer = total // writers
    connection.close()  # forked writers must not share the parent's socket
    with multiprocessing.get_context("fork").Pool(writers) as pool:
        started = time.perf_counter()
        pool.map(_writer, [(per_writer, per_txn, rate / writers if rate else 0, w * per_writer)
                           for w in range(writers)])
        return per_writer * writers / (time.perf_counter() - started)


def drain(events: int, relay_batch: int) -> float:
    """Publish a backlog with no worker running, then time a worker draining it."""
    reset()
    connection.close()
    concurrent_publish(events, writers=2, per_txn=100)
    worker = start_worker({"EVENTBUS_RELAY_BATCH_SIZE": str(relay_batch)})
    try:
        return wait_handled(events, f"drain (relay batch {relay_batch})")
    finally:
        stop(worker)


def steady(rate: float, seconds: float, per_txn: int, writers: int) -> tuple[float, float, float, int]:
    reset()
    connection.close()
    worker = start_worker({})
    try:
        time.sleep(3)  # worker and beat up
        total = int(rate * seconds) // writers * writers
        achieved = concurrent_publish(total, writers=writers, per_txn=per_txn, rate=rate)
        wait_handled(total, "steady", timeout=180)
        lags = [float(v) for v in redis_client().lrange(LAG_KEY, 0, -1)]
    finally:
        stop(worker)
    return achieved, percentile(lags, 50), percentile(lags, 99), len(lags)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="backlog size for the batched drain")
    parser.add_argument("--per-event-events", type=int, default=5_000, help="backlog for one-message-per-event")
    parser.add_argument("--rates", default="1000,3000,5000", help="steady publish rates to try, events/s")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--per-transaction", type=int, default=20, help="events per writer transaction")
    parser.add_argument("--writers", type=int, default=3, help="writer processes in the steady phase")
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the local database may predate the newest migrations

    cost = statistics.median(publish_cost(5000) for _ in range(3))
    print(f"publish cost in the writer's transaction: {cost:.3f} ms/event (target <= 0.3)")
    reset()
    rate = concurrent_publish(20_000, writers=4, per_txn=1)
    print(f"concurrent writers (4 processes, 1 event per transaction, commit each): {rate:,.0f} events/s")
    rate = concurrent_publish(50_000, writers=4, per_txn=50)
    print(f"concurrent writers (4 processes, 50 events per transaction): {rate:,.0f} events/s")
    reset()
    before = drain(args.per_event_events, relay_batch=1)
    print(f"before - one Celery message per event: {before:,.0f} events/s relayed+handled "
          f"({args.per_event_events:,} backlog)")
    after = drain(args.events, relay_batch=1000)
    print(f"after - one message per batch (relay batch 1000): {after:,.0f} events/s relayed+handled "
          f"({args.events:,} backlog; target >= 10,000)")
    for rate in [float(r) for r in args.rates.split(",")]:
        achieved, p50, p99, n = steady(rate, args.seconds, args.per_transaction, args.writers)
        print(f"steady publish at {achieved:,.0f} events/s (asked {rate:,.0f}; {args.writers} writers, "
              f"{args.per_transaction} per transaction) for {args.seconds:.0f}s: publish-to-handler lag "
              f"p50 {p50:.0f} ms, p99 {p99:.0f} ms over {n:,} events (target p99 <= 1000 ms)")
    reset()


if __name__ == "__main__":
    main()
