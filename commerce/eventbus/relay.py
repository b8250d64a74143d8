"""The relay: claims unpublished outbox rows, turns them into dispatches (one per handler and
partition), marks them published, and hands the dispatches to Celery after commit.

Also the sweep, which re-sends dispatches whose handler has not committed by their deadline (a
lost message, a killed worker, a retry whose backoff is over), and the pruning of old rows.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from commerce.eventbus.subscriptions import Handler, handler_named, handlers_for
from commerce.shared.commits import commit_without_flush

log = logging.getLogger(__name__)

RELAY_LOCK = 0x65766275735F726C  # any constant: one relay transaction at a time keeps dispatch order


def conf(key: str):
    return settings.EVENTBUS[key]


def partition_of(aggregate_id: str, partitions: int) -> int:
    return zlib.crc32(aggregate_id.encode()) % partitions


@dataclass(frozen=True)
class Send:
    dispatch_id: int
    handler: str
    partition: int
    queue: str


Sender = Callable[[list[Send]], None]


def celery_sender(sends: list[Send]) -> None:
    """Hand dispatches to Celery. A failure here loses nothing: the sweep re-sends them."""
    if not sends:
        return
    from commerce.eventbus.tasks import deliver_task

    try:
        with deliver_task.app.producer_or_acquire() as producer:
            for send in sends:
                deliver_task.apply_async(
                    args=(send.dispatch_id, send.handler, send.partition),
                    queue=send.queue, producer=producer, retry=False,
                )
    except Exception as exc:
        log.warning("eventbus: could not hand %d dispatches to the broker (%s); the sweep will", len(sends), exc)


def relay_once(*, batch_size: int | None = None, sender: Sender | None = None) -> int:
    """Relay one batch. Returns the number of outbox rows claimed, or -1 if another relay is busy."""
    batch_size = batch_size or conf("RELAY_BATCH_SIZE")
    deadline = timezone.now() + timedelta(seconds=conf("DELIVERY_DEADLINE_SECONDS"))
    sends: list[Send] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Losing this commit in a database crash is harmless: the rows become unpublished
            # again and are relayed anew; messages already sent for it find no dispatch. So the
            # relay does not wait for the WAL flush.
            commit_without_flush()
            # one relay at a time keeps dispatch ids in publish order; a relay that finds another
            # one running leaves the work to it (and to the next kick or periodic run)
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK])
            if not cursor.fetchone()[0]:
                return -1
            # claim and mark published in one statement
            cursor.execute(
                "UPDATE eventbus_outbox SET published_at = now() WHERE id IN (SELECT id FROM eventbus_outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING id, name, aggregate_id",
                [batch_size],
            )
            rows = sorted(cursor.fetchall())
            if not rows:
                return 0
            streams: dict[tuple[str, int], list[int]] = {}
            handlers: dict[str, Handler] = {}
            for outbox_id, name, aggregate_id in rows:
                for handler in handlers_for(name):
                    key = (handler.name, partition_of(aggregate_id, handler.partitions))
                    streams.setdefault(key, []).append(outbox_id)
                    handlers[handler.name] = handler
            for (handler_name, partition), ids in streams.items():
                handler = handlers[handler_name]
                size = handler.max_batch or len(ids)
                for start in range(0, len(ids), size):
                    cursor.execute(
                        "INSERT INTO eventbus_dispatch (handler, queue, partition, outbox_ids, status, attempts,"
                        " due_at, last_error) VALUES (%s, %s, %s, %s, 'pending', 0, %s, '') RETURNING id",
                        [handler_name, handler.queue, partition, ids[start:start + size], deadline],
                    )
                    sends.append(Send(cursor.fetchone()[0], handler_name, partition, handler.queue))
        # sort so a worker meets a stream's dispatches in order
        sends.sort(key=lambda s: s.dispatch_id)
        transaction.on_commit(lambda: (sender or celery_sender)(sends))
    return len(rows)


def relay_all(*, max_seconds: float = 5.0, sender: Sender | None = None) -> int:
    """Relay until the outbox is drained (or the time budget is spent). Returns rows relayed."""
    import time

    started = time.monotonic()
    total = 0
    batch_size = conf("RELAY_BATCH_SIZE")
    while True:
        claimed = relay_once(batch_size=batch_size, sender=sender)
        total += max(claimed, 0)
        if claimed < batch_size or time.monotonic() - started > max_seconds:
            return total


def sweep(*, limit: int = 1000, sender: Sender | None = None) -> int:
    """Re-send pending dispatches past their deadline. Returns how many were re-sent.

    A dispatch that is still not done after ``MAX_SWEEPS`` re-sends (its handler keeps killing its
    worker, or every message is lost) becomes a dead letter instead of looping for ever.
    """
    deadline = timezone.now() + timedelta(seconds=conf("DELIVERY_DEADLINE_SECONDS"))
    max_sweeps = conf("MAX_SWEEPS")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE eventbus_dispatch SET status = 'dead', updated_at = now(), last_error ="
                " 'not done after ' || sweeps || ' re-sends past the delivery deadline (the handler'"
                " || ' kills its worker, or every message was lost)' || chr(10) || last_error"
                " WHERE status = 'pending' AND due_at <= now() AND sweeps >= %s RETURNING id, handler",
                [max_sweeps],
            )
            for dispatch_id, handler in cursor.fetchall():
                log.error("eventbus: dispatch %s to %s is a dead letter after %s re-sends", dispatch_id, handler,
                          max_sweeps)
            cursor.execute(
                "UPDATE eventbus_dispatch SET due_at = %s, sweeps = sweeps + 1, updated_at = now() WHERE id IN ("
                " SELECT id FROM eventbus_dispatch WHERE status = 'pending' AND due_at <= now()"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING id, handler, partition, queue",
                [deadline, limit],
            )
            sends = sorted((Send(*row) for row in cursor.fetchall()), key=lambda s: s.dispatch_id)
        for send in sends:
            if handler_named(send.handler) is None:
                log.error("eventbus: dispatch %s names unknown handler %s", send.dispatch_id, send.handler)
        if sends:
            log.info("eventbus: sweep re-sends %d dispatches", len(sends))
            transaction.on_commit(lambda: (sender or celery_sender)(sends))
    return len(sends)


def prune(*, older_than: timedelta | None = None, chunk: int = 10_000) -> dict[str, int]:
    """Delete published events, done dispatches and inbox rows older than the retention."""
    cutoff = timezone.now() - (older_than or timedelta(hours=conf("RETENTION_HOURS")))
    removed = {"outbox": 0, "dispatch": 0, "inbox": 0}
    statements = {
        "dispatch": "DELETE FROM eventbus_dispatch WHERE id IN (SELECT id FROM eventbus_dispatch"
                    " WHERE status = 'done' AND created_at < %s LIMIT %s)",
        # events a pending or dead dispatch still points at are kept for their retry or replay
        "outbox": "DELETE FROM eventbus_outbox WHERE id IN (SELECT o.id FROM eventbus_outbox o"
                  " WHERE o.created_at < %s AND o.published_at IS NOT NULL AND NOT EXISTS"
                  " (SELECT 1 FROM eventbus_dispatch d WHERE d.status <> 'done' AND o.id = ANY(d.outbox_ids))"
                  " LIMIT %s)",
        "inbox": "DELETE FROM eventbus_inbox WHERE (event_id, handler) IN (SELECT event_id, handler"
                 " FROM eventbus_inbox WHERE processed_at < %s LIMIT %s)",
    }
    for table, sql in statements.items():
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [cutoff, chunk])
                count = cursor.rowcount
            removed[table] += count
            if count < chunk:
                break
    return removed


def lag() -> dict[str, object]:
    """Outbox lag: the oldest unpublished event's age and the backlog; dispatches not yet done."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at)) FROM eventbus_outbox"
            " WHERE published_at IS NULL"
        )
        backlog, oldest = cursor.fetchone()
        cursor.execute(
            "SELECT status, count(*), EXTRACT(EPOCH FROM now() - min(created_at)) FROM eventbus_dispatch"
            " WHERE status <> 'done' GROUP BY status"
        )
        dispatch = {status: {"count": count, "oldest_seconds": float(age or 0)}
                    for status, count, age in cursor.fetchall()}
    return {
        "outbox_backlog": backlog,
        "outbox_oldest_seconds": float(oldest or 0.0),
        "dispatch_pending": dispatch.get("pending", {"count": 0, "oldest_seconds": 0.0}),
        "dead_letters": dispatch.get("dead", {"count": 0, "oldest_seconds": 0.0})["count"],
    }
