"""``bulk_insert``: many rows of one model in one statement, for the event handlers' batches.

Django's ``bulk_create`` builds one placeholder per value in Python: for a batch of a few hundred
rows that compiling took more CPU than PostgreSQL spent on the insert. Here every column travels
as one array parameter and PostgreSQL unpacks them (``unnest``), so the statement text is the
same whatever the batch size (and is prepared once per connection).

What it does not do, unlike ``bulk_create``: signals, setting primary keys on the objects, or
fields whose value the database computes (``db_default`` left unset is skipped, so the column's
default applies). Auto-increment primary keys are left to the database.
"""
from __future__ import annotations

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.expressions import DatabaseDefault


def _columns(model: type[models.Model], first: models.Model) -> list[models.Field]:
    fields = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField) and getattr(first, field.attname) is None:
            continue
        if isinstance(getattr(first, field.attname), DatabaseDefault):
            continue
        fields.append(field)
    return fields


def bulk_insert(objs: Sequence[models.Model]) -> None:
    """Insert ``objs`` (all of one model, all setting the same fields) with one statement."""
    if not objs:
        return
    model = type(objs[0])
    fields = _columns(model, objs[0])
    # the connection object itself: ``django.db.connection`` is a proxy that looks the thread's
    # connection up on every attribute, and each value's preparation reads it (a third of the
    # catalog handler's time in bulk_insert went to those lookups)
    conn = connections[DEFAULT_DB_ALIAS]
    arrays = []
    for field in fields:
        values = []
        prepare = field.get_db_prep_save
        for obj in objs:
            value = field.pre_save(obj, add=True)
            if isinstance(value, DatabaseDefault):
                raise ValueError(f"{model.__name__}.{field.name}: set on some objects and not on others")
            values.append(prepare(value, conn))
        arrays.append(values)
    names = ", ".join(conn.ops.quote_name(f.column) for f in fields)
    unpacked = ", ".join(f"%s::{f.db_type(conn)}[]" for f in fields)
    with conn.cursor() as cursor:
        cursor.execute(f"INSERT INTO {conn.ops.quote_name(model._meta.db_table)} ({names})"
                       f" SELECT * FROM unnest({unpacked})", arrays)
