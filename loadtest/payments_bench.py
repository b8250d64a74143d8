"""Payments benchmark: payments settled per second through the real processor, with the gateway
simulator answering every call after a fixed latency (default 200 ms).

    .venv/bin/python loadtest/payments_bench.py [--payments 6000] [--latency-ms 200]
        [--runs "1x25,1x50,1x100,1x200,1x400,2x200"]    # processes x calls in flight per process

Runs against the local PostgreSQL and Redis of `make services` (the script migrates the database),
with DJANGO_DEBUG=0; do not run it while `make up` runs (its worker would take part). It starts the
simulator itself on a free port, empties the payments and event bus tables, inserts PENDING
payments, then runs each scenario: P processor processes (``commerce.payments.processor``, the
same loop the Celery task runs), each with C gateway calls in flight. Printed per scenario:
payments/s from the first claim to the last record, the calls in flight the simulator saw, gateway
call latency p50/p99 as the processor measured it, and the CPU the processor processes used per
1,000 payments (which is what bounds one process once C is large enough), and the simulator's.
``--celery C`` adds the whole path with real processes: OrderPaymentRequested events published as
orders would, relayed by a Celery worker (with beat) to the payments handler, and charged by a
processor worker like the Procfile's (2 processes, C calls in flight each).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtest.common import free_port, percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

BUYER = uuid.UUID("00000000-0000-4000-8000-0000000b0e11")


def control(url: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def start_simulator() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "simulators.gateway", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            control(url, "/health")
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the gateway simulator did not start")


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE payments_payment, payments_request, payments_method, payments_idempotency_key,"
                       " eventbus_outbox, eventbus_dispatch, eventbus_inbox")


def make_payments(count: int, method_id: uuid.UUID) -> None:
    now = timezone.now()
    deadline = now + timedelta(hours=1)
    rows = [(uuid.uuid4(), uuid.uuid4(), BUYER, method_id, now, deadline) for _ in range(count)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO payments_payment (id, order_id, attempt, buyer_id, method_id, amount, currency, status,"
            " failure_reason, version, deadline_at, action, due_at, calls, processing_errors, unavailable_streak,"
            " cancel_requested, charge_id, refund_id, last_error, created_at, updated_at)"
            " VALUES (%s, %s, 1, %s, %s, 12900.00, 'KRW', 'PENDING', '', 1, %s, 'charge', %s, 0, 0, 0, false,"
            " '', '', '', now(), now())",
            [(pid, order, buyer, method, deadline_at, due) for pid, order, buyer, method, due, deadline_at in rows])


def processor_child(in_flight: int, results) -> None:
    connections.close_all()  # never share the parent's connection
    from commerce.payments.processor import Processor

    process = psutil.Process()
    cpu_before = sum(process.cpu_times()[:2])
    stats = Processor(max_in_flight=in_flight, idle_seconds=1.0, max_seconds=600).run()
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    results.put({"claimed": stats.claimed, "recorded": stats.recorded, "cpu": cpu,
                 "max_in_flight": stats.max_in_flight, "outcomes": stats.outcomes,
                 "calls": stats.call_seconds})


def settled() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM payments_payment WHERE status <> 'PENDING'")
        return cursor.fetchone()[0]


def recorded() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM payments_payment")
        return cursor.fetchone()[0]


def first_and_last_record() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch FROM max(updated_at) - min(updated_at)) FROM payments_payment"
                       " WHERE status <> 'PENDING'")
        return float(cursor.fetchone()[0] or 0)


def run(payments: int, processes: int, in_flight: int, latency_ms: int, url: str,
        simulator: psutil.Process) -> dict:
    from commerce.payments import services

    reset()
    control(url, "/control/reset", {})  # forget earlier scenarios' charges and tokens
    method = services.method_add(member_id=BUYER, card_number="4242424242424242", exp_month=12,
                                 exp_year=timezone.now().year + 3, holder_name="Bench Buyer")
    control(url, "/control/faults", {"mode": "ok", "latencyMs": latency_ms})
    make_payments(payments, method.id)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    children = [context.Process(target=processor_child, args=(in_flight, results)) for _ in range(processes)]
    simulator_cpu = sum(simulator.cpu_times()[:2])
    started = time.monotonic()
    for child in children:
        child.start()
    label = f"{processes} process(es) x {in_flight} in flight"
    with tqdm(total=payments, desc=label, unit="payment", leave=False) as bar:
        done = 0
        while done < payments and any(c.is_alive() for c in children):
            time.sleep(0.25)
            now_done = settled()
            bar.update(now_done - done)
            done = now_done
    reports = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)
    wall = time.monotonic() - started
    busy = first_and_last_record()
    calls = [c for report in reports for c in report["calls"]]
    stats = control(url, "/control/stats")
    cpu = sum(r["cpu"] for r in reports)
    simulator_cpu = sum(simulator.cpu_times()[:2]) - simulator_cpu
    return {
        "scenario": label, "settled": settled(), "seconds": busy,
        "per_second": settled() / busy if busy else float("nan"),
        "wall_seconds": wall, "gateway_max_in_flight": stats["maxInFlight"],
        "call_p50_ms": percentile(calls, 50) * 1000, "call_p99_ms": percentile(calls, 99) * 1000,
        "cpu_seconds_per_1000": cpu / max(len(calls), 1) * 1000,
        "simulator_cpu_per_1000": simulator_cpu / max(len(calls), 1) * 1000,
        "charges": stats["charges"]["succeeded"],
    }


def run_celery(payments: int, latency_ms: int, url: str, in_flight: int) -> dict:
    """The whole path with real processes: events published as orders would, relayed by a Celery
    worker (with beat) to the payments handler, charged by the processor worker of the Procfile."""
    import redis

    from commerce.eventbus import publish_many
    from commerce.orders.events import OrderPaymentRequested
    from commerce.payments import services

    reset()
    control(url, "/control/reset", {})
    method = services.method_add(member_id=BUYER, card_number="4242424242424242", exp_month=12,
                                 exp_year=timezone.now().year + 3, holder_name="Bench Buyer")
    control(url, "/control/faults", {"mode": "ok", "latencyMs": latency_ms})
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # no stale messages
    payments_redis = redis.Redis.from_url(settings.PAYMENTS["REDIS_URL"])
    for key in payments_redis.scan_iter("payments:*"):
        payments_redis.delete(key)
    env = {**os.environ, "PAYMENTS_GATEWAY_URL": url, "PAYMENTS_MAX_IN_FLIGHT": str(in_flight),
           "PYTHONPATH": str(ROOT)}
    celery = str(Path(sys.executable).parent / "celery")
    schedule = ROOT / ".data" / "payments-bench-beat"
    children = [
        subprocess.Popen([celery, "-A", "config", "worker", "-Q", "eventbus,payments", "-c", "2", "-B", "-s",
                          str(schedule), "-n", "bench-bus@%h", "-l", "warning"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True),
        subprocess.Popen([celery, "-A", "config", "worker", "-Q", "payments_processor", "-c", "2",
                          "--prefetch-multiplier", "1", "-n", "bench-pay@%h", "-l", "warning"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True),
    ]
    try:
        time.sleep(5)  # let the workers start
        started = time.monotonic()
        for start in range(0, payments, 500):
            with transaction.atomic():
                publish_many([
                    OrderPaymentRequested(aggregate_id=str(uuid.uuid4()), aggregate_version=1, buyer_id=str(BUYER),
                                          payment_method_id=str(method.id), amount="12900.00", currency="KRW")
                    for _ in range(min(500, payments - start))])
        published = time.monotonic() - started
        label = f"Celery: 2 processor procs x {in_flight}"
        recorded_at = None
        with tqdm(total=payments, desc=label, unit="payment", leave=False) as bar:
            done = 0
            deadline = time.monotonic() + 600
            while done < payments and time.monotonic() < deadline:
                time.sleep(0.25)
                now_done = settled()
                bar.update(now_done - done)
                done = now_done
                if recorded_at is None and recorded() >= payments:
                    recorded_at = time.monotonic() - started
        seconds = time.monotonic() - started
    finally:
        for child in children:
            os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
    stats = control(url, "/control/stats")
    return {"scenario": label, "settled": settled(), "seconds": seconds, "published_seconds": published,
            "recorded_seconds": recorded_at or seconds,
            "per_second": settled() / seconds, "gateway_max_in_flight": stats["maxInFlight"],
            "charges": stats["charges"]["succeeded"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=6000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--runs", default="1x50,1x100,1x200,1x400,1x800,2x256",
                        help="comma-separated PROCESSESxIN_FLIGHT scenarios")
    parser.add_argument("--celery", type=int, default=0, metavar="IN_FLIGHT",
                        help="also run the whole path through real Celery workers with this many calls in "
                             "flight per processor (publish -> relay -> handler -> processor -> recorded)")
    args = parser.parse_args()
    if settings.DEBUG:
        raise SystemExit("run with DJANGO_DEBUG=0 (DEBUG keeps every query in memory)")
    call_command("migrate", verbosity=0)
    simulator, url = start_simulator()
    try:
        settings.PAYMENTS = {**settings.PAYMENTS, "GATEWAY_URL": url}
        from commerce.payments.breaker import gateway_breaker

        gateway_breaker().reset()
        print(f"gateway latency {args.latency_ms} ms, {args.payments} payments per scenario, "
              f"{os.cpu_count()} CPUs")
        print(f"{'scenario':32} {'payments/s':>10} {'in flight':>9} {'call p50':>9} {'call p99':>9} "
              f"{'CPU s/1000':>10} {'sim CPU':>8} {'charged':>8}")
        for spec in args.runs.split(","):
            processes, in_flight = (int(x) for x in spec.lower().split("x"))
            result = run(args.payments, processes, in_flight, args.latency_ms, url, psutil.Process(simulator.pid))
            print(f"{result['scenario']:32} {result['per_second']:10.0f} {result['gateway_max_in_flight']:9d} "
                  f"{result['call_p50_ms']:8.0f}ms {result['call_p99_ms']:8.0f}ms "
                  f"{result['cpu_seconds_per_1000']:10.2f} {result['simulator_cpu_per_1000']:8.2f} "
                  f"{result['charges']:8d}", flush=True)
            if result["settled"] != args.payments or result["charges"] != args.payments:
                print(f"  !! {result['settled']} settled, {result['charges']} charged of {args.payments}")
        if args.celery:
            result = run_celery(args.payments, args.latency_ms, url, args.celery)
            print(f"{result['scenario']:32} {result['per_second']:10.0f} {result['gateway_max_in_flight']:9d}   "
                  f"(publish to last settled {result['seconds']:.1f} s; publishing took "
                  f"{result['published_seconds']:.1f} s, every request recorded by the handler after "
                  f"{result['recorded_seconds']:.1f} s; {result['charges']} charged)", flush=True)
            if result["settled"] != args.payments or result["charges"] != args.payments:
                print(f"  !! {result['settled']} settled, {result['charges']} charged of {args.payments}")
    finally:
        simulator.terminate()
        simulator.wait(10)
        reset()


if __name__ == "__main__":
    main()
