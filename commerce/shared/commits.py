"""Commits that do not wait for their WAL to reach the disk.

On one box, flushing the WAL is what PostgreSQL's writers wait on most under order load (sampled
in docs/orders.md): every synchronous commit queues for an fsync. A commit whose loss in a
database crash is repaired by doing the same work again need not wait: call
``commit_without_flush()`` inside its ``transaction.atomic()`` block. Such a crash loses only
the last moments of those commits, each whole (a transaction is never half kept), and never a
commit that an earlier synchronous one made durable: a synchronous commit flushes everything
written before it.

The rule for using it: the transaction's effects are redone if lost (a redelivered event, a
lease that expires and is claimed again), and nothing outside the database was told about them
yet. A commit that comes before a call to the outside world (the claim of a gateway or carrier
call) or before an answer to a client (an accepted order, an acknowledged webhook) stays
synchronous, so the outside world never learns of something the database can forget.
"""
from __future__ import annotations

from django.db import connection


def commit_without_flush() -> None:
    """Make the current transaction's commit asynchronous (``SET LOCAL synchronous_commit = off``).
    Must be called inside ``transaction.atomic()``; ends with the transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("commit_without_flush() outside a transaction would change the whole session")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
