"""Operator actions on dead letters: list, replay (after the cause is fixed) and purge."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from commerce.eventbus.relay import Send, Sender, celery_sender


@dataclass(frozen=True)
class DeadLetter:
    dispatch_id: int
    handler: str
    event_names: list[str]
    outbox_ids: list[int]
    attempts: int
    last_error: str
    updated_at: datetime


def dead_letter_list(*, handler: str | None = None, limit: int = 100) -> list[DeadLetter]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id, d.handler, ARRAY(SELECT o.name FROM eventbus_outbox o WHERE o.id = ANY(d.outbox_ids)"
            " ORDER BY o.id), d.outbox_ids, d.attempts, d.last_error, d.updated_at FROM eventbus_dispatch d"
            " WHERE d.status = 'dead' AND (%s::text IS NULL OR d.handler = %s) ORDER BY d.id LIMIT %s",
            [handler, handler, limit],
        )
        return [DeadLetter(*row) for row in cursor.fetchall()]


def _select(ids: list[int] | None, handler: str | None) -> tuple[str, list]:
    if ids is None and handler is None:
        return "status = 'dead'", []
    clauses, params = ["status = 'dead'"], []
    if ids is not None:
        clauses.append("id = ANY(%s)")
        params.append(ids)
    if handler is not None:
        clauses.append("handler = %s")
        params.append(handler)
    return " AND ".join(clauses), params


def dead_letter_replay(*, ids: list[int] | None = None, handler: str | None = None,
                       sender: Sender | None = None) -> int:
    """Give dead letters a fresh set of attempts and send them now (the sweep re-sends any lost)."""
    where, params = _select(ids, handler)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE eventbus_dispatch SET status = 'pending', attempts = 0, sweeps = 0, due_at = now()"  # noqa: S608
            f" + interval '30 seconds', updated_at = now() WHERE {where}"
            " RETURNING id, handler, partition, queue",
            params,
        )
        sends = [Send(*row) for row in cursor.fetchall()]
        transaction.on_commit(lambda: (sender or celery_sender)(sends))
    return len(sends)


def dead_letter_purge(*, ids: list[int] | None = None, handler: str | None = None) -> int:
    where, params = _select(ids, handler)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM eventbus_dispatch WHERE {where}", params)  # noqa: S608
        return cursor.rowcount
