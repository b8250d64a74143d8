"""The worker side: run one handler over one dispatch, exactly once in effect.

Everything a handler does commits in one transaction with its inbox rows and with the dispatch
marked done; a redelivered dispatch finds it done, a redelivered event finds its inbox row. A
dispatch of an ordered stream (handler, partition) first takes the stream's advisory lock and
handles every earlier pending dispatch of that stream too, so one aggregate's events reach a
handler in publish order even when messages arrive out of order or get lost; and, within the
handler's batch size, the later pending ones as well, so a stream that falls behind catches up
in batches.
"""
from __future__ import annotations

import logging
import random
import traceback
import zlib
from dataclasses import dataclass

from django.db import connection, transaction

from commerce.eventbus import codec
from commerce.eventbus.relay import conf
from commerce.eventbus.subscriptions import Handler, handler_named
from commerce.shared.commits import commit_without_flush

log = logging.getLogger(__name__)


@dataclass
class DeliveryResult:
    dispatches: int = 0
    handled: int = 0
    duplicates: int = 0
    failed: int = 0
    busy: bool = False  # another worker holds the stream; try again shortly


def stream_lock_key(handler_name: str) -> int:
    return zlib.crc32(handler_name.encode()) - 2**31  # a signed int4


def retry_delay(attempts: int) -> float:
    base = conf("RETRY_BASE_SECONDS") * 2 ** (attempts - 1)
    return min(base, 300.0) * random.uniform(0.8, 1.2)


def deliver(dispatch_id: int, handler_name: str, partition: int) -> DeliveryResult:
    result = DeliveryResult()
    handler = handler_named(handler_name)
    if handler is None:
        log.error("eventbus: no handler %s in this process; dispatch %s left for a worker that has it",
                  handler_name, dispatch_id)
        return result
    with transaction.atomic(), connection.cursor() as cursor:
        # No flush to disk at commit: a crash can lose only the last moments of handled dispatches,
        # and each loses its effects, inbox rows, outgoing events and "done" mark together, so it
        # is simply delivered again. Handlers never call the outside world (see README.md).
        commit_without_flush()
        if partition >= 0:
            # never block a worker slot on a busy stream: the caller re-sends the message
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [stream_lock_key(handler_name), partition])
            if not cursor.fetchone()[0]:
                result.busy = True
                return result
            cursor.execute(
                "SELECT id, outbox_ids, attempts FROM eventbus_dispatch WHERE handler = %s AND partition = %s"
                " AND status = 'pending' AND id <= %s ORDER BY id FOR UPDATE",
                [handler_name, partition, dispatch_id],
            )
            dispatches = cursor.fetchall()
            dispatches += _later_dispatches(cursor, handler, partition, dispatch_id,
                                            sum(len(ids) for _, ids, _ in dispatches))
        else:
            cursor.execute(
                "SELECT id, outbox_ids, attempts FROM eventbus_dispatch WHERE id = %s AND status = 'pending'"
                " FOR UPDATE",
                [dispatch_id],
            )
            dispatches = cursor.fetchall()
        if not dispatches:
            return result
        result.dispatches = len(dispatches)
        outbox_ids = [oid for _, ids, _ in dispatches for oid in ids]
        cursor.execute(
            "SELECT id, event_id, name, payload::text FROM eventbus_outbox WHERE id = ANY(%s) ORDER BY id",
            [outbox_ids],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "INSERT INTO eventbus_inbox (event_id, handler) SELECT unnest(%s::uuid[]), %s"
            " ON CONFLICT DO NOTHING RETURNING event_id",
            [[row[1] for row in rows], handler_name],
        )
        fresh_ids = {row[0] for row in cursor.fetchall()}
        fresh = [row for row in rows if row[1] in fresh_ids]
        result.duplicates = len(rows) - len(fresh)

        failures = _run(handler, fresh)
        result.handled = len(fresh) - len(failures)
        result.failed = len(failures)
        retry_row = dispatches[0] if partition < 0 else None
        for outbox_id, event_id, error in failures:
            cursor.execute("DELETE FROM eventbus_inbox WHERE event_id = %s AND handler = %s",
                           [event_id, handler_name])
            _record_failure(cursor, handler, outbox_id, error, retry_row)
        if not (retry_row and failures):
            cursor.execute(
                "UPDATE eventbus_dispatch SET status = 'done', updated_at = now() WHERE id = ANY(%s)",
                [[d[0] for d in dispatches]],
            )
    return result


def _later_dispatches(cursor, handler: Handler, partition: int, dispatch_id: int, taken: int) -> list[tuple]:
    """Pending dispatches of the stream *after* this one, while the events taken stay within the
    handler's batch size: under load, when a stream's dispatches queue up, one transaction drains
    them instead of one each (the later messages then find nothing left to do). The relay's small
    dispatches (one per relay run and partition, every ~100 ms) thus grow into batches by
    themselves exactly when the handler falls behind."""
    budget = (handler.max_batch or conf("CATCH_UP_EVENTS")) - taken
    if budget <= 0:
        return []
    cursor.execute(
        "SELECT id, outbox_ids, attempts FROM eventbus_dispatch WHERE handler = %s AND partition = %s"
        " AND status = 'pending' AND id > %s ORDER BY id LIMIT %s FOR UPDATE",
        [handler.name, partition, dispatch_id, budget],
    )
    later = []
    for row in cursor.fetchall():
        budget -= len(row[1])
        if budget < 0:
            break
        later.append(row)
    return later


def _run(handler: Handler, rows: list[tuple]) -> list[tuple[int, object, str]]:
    """Run the handler on fresh events; returns (outbox id, event id, error) for each failure.
    Each failure is isolated by a savepoint, so the other events' effects still commit."""
    if not rows:
        return []
    if handler.batch and len(rows) > 1:
        try:
            events = [codec.decode(name, payload) for _, _, name, payload in rows]
            with transaction.atomic():
                handler.fn(events)
            return []
        except Exception:
            log.warning("eventbus: batch handler %s failed on %d events; isolating the failure one by one",
                        handler.name, len(rows), exc_info=True)
    failures = []
    for outbox_id, event_id, name, payload in rows:
        try:
            event = codec.decode(name, payload)
            with transaction.atomic():
                handler.fn([event] if handler.batch else event)
        except Exception as exc:
            log.warning("eventbus: handler %s failed on event %s (%s)", handler.name, event_id, exc)
            error = "".join(traceback.format_exception(exc))[-4000:]
            failures.append((outbox_id, event_id, error))
    return failures


def _record_failure(cursor, handler: Handler, outbox_id: int, error: str, retry_row) -> None:
    attempts = (retry_row[2] if retry_row else 0) + 1
    dead = attempts >= (handler.max_attempts or conf("MAX_ATTEMPTS"))
    delay = 0.0 if dead else retry_delay(attempts)
    status = "dead" if dead else "pending"
    if dead:
        log.error("eventbus: handler %s gave up on outbox event %s after %d attempts: dead letter",
                  handler.name, outbox_id, attempts)
    if retry_row:
        cursor.execute(
            "UPDATE eventbus_dispatch SET status = %s, attempts = %s, last_error = %s, sweeps = 0,"
            " due_at = now() + make_interval(secs => %s), updated_at = now() WHERE id = %s",
            [status, attempts, error, delay, retry_row[0]],
        )
    else:
        cursor.execute(
            "INSERT INTO eventbus_dispatch (handler, queue, partition, outbox_ids, status, attempts, due_at,"
            " last_error) VALUES (%s, %s, -1, %s, %s, %s, now() + make_interval(secs => %s), %s)",
            [handler.name, handler.queue, [outbox_id], status, attempts, delay, error],
        )
