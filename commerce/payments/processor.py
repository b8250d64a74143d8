"""The processor: claims due gateway calls, makes hundreds of them at once from one event loop,
and records the answers, with no database transaction open while a call is in flight.

One ``run()`` is one asyncio loop in one process: a claimer coroutine tops the in-flight set up
to ``MAX_IN_FLIGHT`` (one ``payments_claim`` transaction per batch, SKIP LOCKED, leased), each
call is a task on a shared ``httpx.AsyncClient``, and a recorder coroutine writes finished answers
in batches (``payment_results_record``: one short transaction with their events). Database work
runs on one helper thread, so the loop keeps reading answers while PostgreSQL commits. The
circuit breaker (Redis, shared by all processes) decides whether to claim at all.

The claimer sleeps until a call finishes, a NOTIFY on ``services.WAKE_CHANNEL`` says new calls are
due (sent by the transaction that made them due, on a connection of the loop's own), or
``POLL_SECONDS`` pass: the poll still finds what no notification announced (retries whose backoff
is over, leases that ran out) and covers a listening connection that was lost.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import redis
from django.conf import settings
from django.db import connection, connections

from commerce.payments import services
from commerce.payments.breaker import CircuitBreaker, Permit, gateway_breaker
from commerce.payments.gateway import GatewaySession, Outcome, PaymentGateway, payment_gateway
from commerce.payments.models import Payment
from commerce.shared.pressure import Yielder

log = logging.getLogger(__name__)

RECORD_BATCH = 200
RECORD_WINDOW_SECONDS = 0.02
SWEEP_EVERY_SECONDS = 1.0
RELISTEN_SECONDS = 1.0  # after the listening connection failed


@dataclass
class RunStats:
    claimed: int = 0
    recorded: int = 0
    events: int = 0
    expired: int = 0
    unavailable: int = 0
    max_in_flight: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    call_seconds: list[float] = field(default_factory=list)  # how long each gateway call took
    paused_seconds: float = 0.0  # given way to an overloaded web tier


def _close_connection() -> None:
    connection.close()  # looked up here, in the calling thread: Django connections are per thread


def _listen_params() -> dict:
    """The default database's connection parameters, for an asyncio psycopg connection."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)  # Django's own, synchronous cursor class
    return params


async def _call(session: GatewaySession, item: services.WorkItem):
    if item.action == Payment.CHARGE:
        return await session.charge(token=item.token, amount=item.amount, currency=item.currency,
                                    reference=str(item.order_id), idempotency_key=item.idempotency_key)
    if item.action == Payment.REFUND:
        return await session.refund(charge_id=item.charge_id, idempotency_key=item.refund_key)
    return await session.reverse(idempotency_key=item.idempotency_key)


class Processor:
    def __init__(self, *, gateway: PaymentGateway | None = None, breaker: CircuitBreaker | None = None,
                 max_in_flight: int | None = None, max_seconds: float | None = None,
                 idle_seconds: float | None = None, poll_seconds: float | None = None):
        conf = settings.PAYMENTS
        self.gateway = gateway or payment_gateway()
        self.breaker = breaker or gateway_breaker()
        self.max_in_flight = max_in_flight or conf["MAX_IN_FLIGHT"]
        self.max_seconds = conf["PROCESSOR_MAX_SECONDS"] if max_seconds is None else max_seconds
        self.idle_seconds = conf["PROCESSOR_IDLE_SECONDS"] if idle_seconds is None else idle_seconds
        self.poll_seconds = poll_seconds or conf["POLL_SECONDS"]
        self.stats = RunStats()
        self.in_flight: set[asyncio.Task] = set()
        self.answers: asyncio.Queue = asyncio.Queue()
        # set when a call finishes; waiting on it, not on the in-flight tasks themselves, keeps a wake-up
        # O(1) (asyncio.wait on 200 tasks adds and removes 200 callbacks every time)
        self.slot_freed = asyncio.Event()  # also set by a wake-up notification
        self.listening = False  # the LISTEN is in place (for the tests and the logs)
        self.probe_in_flight = False
        # unavailable answers in a row that the recorder has not told the shared breaker yet: enough of
        # them stop this loop from claiming more in the few milliseconds before it has
        self.unreported_failures = 0
        # the loop's database time (claims, answers), which it gives way for while the web tier is
        # overloaded (commerce/shared/pressure.py)
        self.db_seconds = 0.0
        self.yielder = Yielder()

    def run(self) -> RunStats:
        """Process until idle for ``idle_seconds`` or for at most ``max_seconds``; blocking."""
        return asyncio.run(self._run())

    async def _run(self) -> RunStats:
        loop = asyncio.get_running_loop()
        db = ThreadPoolExecutor(1, thread_name_prefix="payments-db")

        async def in_db(fn, *args):
            started = time.monotonic()
            try:
                return await loop.run_in_executor(db, fn, *args)
            finally:
                self.db_seconds += time.monotonic() - started

        self.in_db = in_db
        try:
            async with self.gateway.session(max_in_flight=self.max_in_flight) as session:
                recorder = asyncio.create_task(self._recorder())
                listener = asyncio.create_task(self._listener())
                try:
                    await self._claimer(session)
                    if self.in_flight:
                        await asyncio.wait(self.in_flight)
                    await self.answers.put(None)
                    await recorder
                finally:
                    recorder.cancel()
                    listener.cancel()
                    await asyncio.gather(listener, return_exceptions=True)
        finally:
            await in_db(_close_connection)  # the helper thread's own connection
            db.shutdown(wait=True)
        return self.stats

    async def _claimer(self, session: GatewaySession) -> None:
        started = last_work = time.monotonic()
        next_sweep = 0.0
        refill_at = max(1, self.max_in_flight // 4)  # claim in batches, not one by one
        yielded_for = 0.0  # database time already given way for
        while True:
            pause = self.yielder.pause_for(self.db_seconds - yielded_for)
            yielded_for = self.db_seconds
            if pause:
                self.stats.paused_seconds += pause
                await asyncio.sleep(pause)
            # cleared before looking for work: a call finishing or a notification from here on
            # ends the wait below at once
            self.slot_freed.clear()
            now = time.monotonic()
            if now >= next_sweep:
                self.stats.expired += await self.in_db(services.payments_expire)
                next_sweep = now + SWEEP_EVERY_SECONDS
            if now - started >= self.max_seconds:
                return
            free = self.max_in_flight - len(self.in_flight)
            items = []
            if free >= refill_at or (free > 0 and not self.in_flight):
                permit = await self.in_db(self._permit)
                limit = free if permit is Permit.CLOSED else (1 if permit is Permit.PROBE else 0)
                if limit:
                    items = await self.in_db(services.payments_claim, limit)
                    if permit is Permit.PROBE:
                        if items:
                            self.probe_in_flight = True
                        else:
                            await self.in_db(self.breaker.release_probe)
            for item in items:
                task = asyncio.create_task(self._call_and_queue(session, item))
                self.in_flight.add(task)
                task.add_done_callback(self.in_flight.discard)
            self.stats.claimed += len(items)
            self.stats.max_in_flight = max(self.stats.max_in_flight, len(self.in_flight))
            if items or self.in_flight:
                last_work = now
            elif now - last_work >= self.idle_seconds:
                return
            if not items:
                # wait for a slot to free up or new work to become due
                try:
                    await asyncio.wait_for(self.slot_freed.wait(), self.poll_seconds)
                except TimeoutError:
                    pass

    async def _listener(self) -> None:
        """Wake the claimer on every notification that calls are due; reconnect if the connection
        fails (meanwhile the poll goes on)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(**_listen_params(), autocommit=True) as conn:
                    await conn.execute(f"LISTEN {services.WAKE_CHANNEL}")
                    self.listening = True
                    self.slot_freed.set()  # anything made due before the LISTEN: claim it now
                    async for _ in conn.notifies():
                        self.slot_freed.set()
            except psycopg.Error as exc:
                log.warning("payments: not listening for new payments (%s); polling every %.2f s",
                            exc, self.poll_seconds)
            self.listening = False
            await asyncio.sleep(RELISTEN_SECONDS)

    def _permit(self) -> Permit:
        if self.probe_in_flight or self.unreported_failures >= self.breaker.failures:
            return Permit.OPEN  # one probe at a time from this loop too
        try:
            return self.breaker.permit()
        except redis.RedisError as exc:
            # no shared state: call anyway (timeouts still bound every call) rather than stop paying
            log.warning("payments: circuit breaker state unavailable (%s); calling the gateway", exc)
            return Permit.CLOSED

    async def _call_and_queue(self, session: GatewaySession, item: services.WorkItem) -> None:
        started = time.monotonic()
        try:
            result = await _call(session, item)
            self.stats.call_seconds.append(time.monotonic() - started)
        except Exception:  # a bug in an adapter must not lose the others' answers
            log.exception("payments: gateway call for payment %s failed unexpectedly", item.payment_id)
            return  # its lease runs out and it is claimed again
        finally:
            self.slot_freed.set()
        self.unreported_failures = self.unreported_failures + 1 if result.outcome is Outcome.UNAVAILABLE else 0
        self.answers.put_nowait((item, result))

    async def _recorder(self) -> None:
        """Write answers in batches: wait a few milliseconds after the first so that one
        transaction carries many answers."""
        finished = False
        while not finished:
            first = await self.answers.get()
            if first is None:
                break
            if self.answers.qsize() < RECORD_BATCH:
                await asyncio.sleep(RECORD_WINDOW_SECONDS)
            batch = [first]
            while len(batch) < RECORD_BATCH and not self.answers.empty():
                answer = self.answers.get_nowait()
                if answer is None:
                    finished = True
                    break
                batch.append(answer)
            await self._record(batch)

    async def _record(self, batch) -> None:
        failures = sum(result.outcome is Outcome.UNAVAILABLE for _, result in batch)
        for _, result in batch:
            self.stats.outcomes[result.outcome.value] = self.stats.outcomes.get(result.outcome.value, 0) + 1
        self.stats.unavailable += failures

        def write():
            events = services.payment_results_record(batch)  # the answers first: they must not be lost
            try:
                self.breaker.record(successes=len(batch) - failures, failures=failures)
            except redis.RedisError as exc:
                log.warning("payments: could not update the circuit breaker (%s)", exc)
            return events

        try:
            self.stats.events += await self.in_db(write)
            self.stats.recorded += len(batch)
            self.unreported_failures = 0  # the shared breaker knows now
        except Exception:
            # the leases run out and the calls are made again with the same keys: same answers
            log.exception("payments: could not record %d gateway answers", len(batch))
        finally:
            self.probe_in_flight = False  # with a probe out, nothing else is in flight: this was it
