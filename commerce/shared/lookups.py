"""Read-only lookups of several contexts, sent to PostgreSQL together.

A context's public api can offer a lookup as a ``Lookup``: its SQL, its parameters and how its
rows become the answer. The context keeps its SQL and its reading; the caller only decides when to
ask. ``run(lookup)`` runs one; ``run_together(...)`` sends several in one round trip (psycopg's
pipeline mode) and returns their answers in order. Placing an order checks three contexts (the
products, the payment method, the address): one round trip instead of three, and one wake-up of
the database backend instead of three on a box whose cores are busy (docs/orders.md, ninth round).
Queries sent together use psycopg's cursors directly, so Django's ``connection.queries`` and
``execute_wrapper`` do not see them (a single lookup goes through Django's cursor as usual).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection

T = TypeVar("T")


@dataclass(frozen=True)
class Lookup(Generic[T]):
    """A query and how to read its rows, or (``sql`` None) an answer known without asking."""

    sql: str | None
    params: Sequence[Any]
    read: Callable[[list[tuple]], T]

    def then(self, read: Callable[[T], Any]) -> Lookup[Any]:
        """The same query, its answer passed on through ``read``."""
        first = self.read
        return Lookup(self.sql, self.params, lambda rows: read(first(rows)))

    @classmethod
    def answered(cls, value: T) -> Lookup[T]:
        """A lookup that needs no query (say, an id that is not a UUID cannot match)."""
        return cls(None, (), lambda _rows: value)


def run(lookup: Lookup[T]) -> T:
    return run_together(lookup)[0]


def run_together(*lookups: Lookup[Any]) -> list[Any]:
    """The answers of ``lookups``, in order, their queries sent in one round trip."""
    asked = [n for n, lookup in enumerate(lookups) if lookup.sql is not None]
    rows: dict[int, list[tuple]] = {}
    if len(asked) == 1:
        with connection.cursor() as cursor:
            cursor.execute(lookups[asked[0]].sql, lookups[asked[0]].params)
            rows[asked[0]] = cursor.fetchall()
    elif asked:
        connection.ensure_connection()
        raw = connection.connection
        with connection.wrap_database_errors, raw.pipeline():
            cursors = {n: raw.cursor() for n in asked}
            for n, cursor in cursors.items():
                cursor.execute(lookups[n].sql, lookups[n].params)
            # the first fetch sends everything queued and reads every result
            for n, cursor in cursors.items():
                rows[n] = cursor.fetchall()
                cursor.close()
    return [lookup.read(rows.get(n, [])) for n, lookup in enumerate(lookups)]
