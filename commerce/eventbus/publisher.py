"""``publish(event)``: one outbox row in the caller's transaction, and a kick to the relay after
commit. Nothing here talks to the broker before the commit, so a rolled-back change never
announces anything."""
from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg
from django.db import connections, transaction

from commerce.eventbus import codec, signals
from commerce.eventbus.event import DomainEvent

log = logging.getLogger(__name__)

_INSERT = (
    "INSERT INTO eventbus_outbox (event_id, name, event_version, aggregate_id, aggregate_version,"
    " occurred_at, payload) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)"
)


class NotInTransaction(RuntimeError):
    """publish() was called outside transaction.atomic(): the event could outlive a rollback."""


def publish(event: DomainEvent, *, using: str = "default") -> None:
    """Write ``event`` to the outbox in the current transaction."""
    publish_many([event], using=using)


def publish_many(events: Sequence[DomainEvent], *, using: str = "default") -> None:
    """Write several events in one round trip (pipelined), in the given order."""
    if not events:
        return
    for event in events:
        if not event.name:
            raise TypeError(f"{type(event).__qualname__} has no event name")
    connection = connections[using]
    if not connection.in_atomic_block:
        raise NotInTransaction(f"publish({events[0].name}) must run inside transaction.atomic()")
    rows = [
        (event.event_id, event.name, event.version, str(event.aggregate_id), event.aggregate_version,
         event.occurred_at, codec.encode(event))
        for event in events
    ]
    # A server-side prepared statement on the same connection (so the same transaction): the
    # insert is planned once per connection, which keeps publish() well under the 0.3 ms budget.
    with psycopg.Cursor(connection.connection) as cursor:
        if len(rows) == 1:
            cursor.execute(_INSERT, rows[0], prepare=True)
        else:
            cursor.executemany(_INSERT, rows)
    _kick_after_commit(connection, using)


def _kick_after_commit(connection, using: str) -> None:
    # one kick per transaction, however many events it publishes
    if not any(func is signals.after_commit for _, func, _ in connection.run_on_commit):
        transaction.on_commit(signals.after_commit, using=using, robust=True)


def write_and_publish(statement: str | Sequence[str], params: Sequence, events: Sequence[DomainEvent], *,
                      when: int | None = None, using: str = "default") -> bool:
    """Run one data-changing ``statement`` (an INSERT or UPDATE, ``%s`` placeholders) and write
    ``events`` to the outbox in the same SQL statement, so both commit or neither does even
    outside ``transaction.atomic()``: for a hot path whose change is a single statement, this
    saves the transaction's own round trips (BEGIN, COMMIT) and Django's atomic machinery. Inside
    an atomic block it joins that transaction like ``publish``.

    Several statements (a sequence, ``params`` in their order) run side by side in that one SQL
    statement, each as its own common table expression named ``change0``, ``change1``...: they
    all see the database as it was before it, so none may depend on another's change, but one may
    read the rows an earlier one returns (``SELECT ... FROM change0``). With ``when=n`` the events
    are written only if statement ``n`` returned a row (an UPDATE guarded by a version, say), and
    statements reading its rows then write nothing either. Returns whether the events were written."""
    if not events:
        raise ValueError("write_and_publish needs at least one event")
    for event in events:
        if not event.name:
            raise TypeError(f"{type(event).__qualname__} has no event name")
    connection = connections[using]
    statements = [statement] if isinstance(statement, str) else list(statement)
    if when is not None and not 0 <= when < len(statements):
        raise ValueError(f"when={when}: there is no statement {when}")
    changes = ", ".join(f"change{n} AS ({sql})" for n, sql in enumerate(statements))
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s::jsonb)"] * len(events))
    rows = f"VALUES {values}" if when is None else (
        f"SELECT * FROM (VALUES {values}) AS event WHERE EXISTS (SELECT FROM change{when})")
    sql = (f"WITH {changes} INSERT INTO eventbus_outbox (event_id, name, event_version,"
           f" aggregate_id, aggregate_version, occurred_at, payload) {rows}")
    outbox = [value for event in events for value in (
        event.event_id, event.name, event.version, str(event.aggregate_id), event.aggregate_version,
        event.occurred_at, codec.encode(event))]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *outbox])
        written = cursor.rowcount > 0
    if not written:
        return False
    if connection.in_atomic_block:
        _kick_after_commit(connection, using)
    else:
        signals.after_commit()
    return True
