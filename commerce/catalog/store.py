"""Where product documents live, behind one small interface.

Services only see ``ProductStore``; which implementation runs is configuration
(``CATALOG_PRODUCT_STORE``). Every implementation keeps the highest version it was given:
writing an older version is a no-op, so repeated and reordered writes converge.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True, kw_only=True)
class ProductDoc:
    product_id: UUID
    seller_id: UUID
    name: str
    description: str
    price: Decimal
    currency: str
    category: str
    attributes: dict = field(default_factory=dict)
    active: bool = True
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SellerPage:
    items: list[ProductDoc]
    next_after: tuple[datetime, UUID] | None


class ProductStore(Protocol):
    # True when the store writes in the caller's PostgreSQL transaction (commits and rolls back
    # with it); a store outside PostgreSQL is written only after the commit.
    transactional: bool

    def get(self, product_id: UUID) -> ProductDoc | None: ...

    def get_many(self, product_ids: Iterable[UUID]) -> dict[UUID, ProductDoc]: ...

    def put(self, doc: ProductDoc) -> None:
        """Upsert, unless the store already holds this version or a newer one."""

    def list_by_seller(self, seller_id: UUID, *, limit: int,
                       after: tuple[datetime, UUID] | None = None) -> SellerPage:
        """The seller's products, newest first; ``after`` continues from a page's ``next_after``."""

    def iter_all(self, *, batch_size: int = 1000) -> Iterator[ProductDoc]:
        """Every product, in no particular order (reindexing)."""


class PostgresProductStore:
    """Documents in ``catalog_product_document``; a conditional upsert keeps the newest version."""

    transactional = True

    _UPSERT = (
        "INSERT INTO catalog_product_document (product_id, seller_id, name, description, price, currency,"
        " category, attributes, active, version, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)"
        " ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,"
        " price = EXCLUDED.price, currency = EXCLUDED.currency, category = EXCLUDED.category,"
        " attributes = EXCLUDED.attributes, active = EXCLUDED.active, version = EXCLUDED.version,"
        " updated_at = EXCLUDED.updated_at"
        " WHERE catalog_product_document.version < EXCLUDED.version"
    )

    def _model(self):
        from commerce.catalog.models import ProductDocument

        return ProductDocument

    @staticmethod
    def _doc(row) -> ProductDoc:
        return ProductDoc(
            product_id=row.product_id, seller_id=row.seller_id, name=row.name, description=row.description,
            price=row.price, currency=row.currency, category=row.category, attributes=row.attributes,
            active=row.active, version=row.version, created_at=row.created_at, updated_at=row.updated_at,
        )

    _SELECT = (
        "SELECT product_id, seller_id, name, description, price, currency, category, attributes, active, version,"
        " created_at, updated_at FROM catalog_product_document"
    )

    def get(self, product_id: UUID) -> ProductDoc | None:
        # plain SQL: this is the hottest read of the shop, and the ORM's per-row cost shows here
        return self.get_many([product_id]).get(product_id)

    def get_many(self, product_ids: Iterable[UUID]) -> dict[UUID, ProductDoc]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(self._SELECT + " WHERE product_id = ANY(%s)", [list(product_ids)])
            docs = [ProductDoc(product_id=r[0], seller_id=r[1], name=r[2], description=r[3], price=r[4],
                               currency=r[5], category=r[6], attributes=_json(r[7]), active=r[8], version=r[9],
                               created_at=r[10], updated_at=r[11]) for r in cursor.fetchall()]
        return {doc.product_id: doc for doc in docs}

    def put(self, doc: ProductDoc) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(self._UPSERT, [
                doc.product_id, doc.seller_id, doc.name, doc.description, doc.price, doc.currency,
                doc.category, json.dumps(doc.attributes), doc.active, doc.version, doc.created_at, doc.updated_at,
            ])

    def list_by_seller(self, seller_id: UUID, *, limit: int,
                       after: tuple[datetime, UUID] | None = None) -> SellerPage:
        from django.db.models import Q

        rows = self._model().objects.filter(seller_id=seller_id)
        if after is not None:
            created_at, product_id = after
            rows = rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, product_id__lt=product_id))
        page = [self._doc(row) for row in rows.order_by("-created_at", "-product_id")[: limit + 1]]
        more = len(page) > limit
        page = page[:limit]
        return SellerPage(page, (page[-1].created_at, page[-1].product_id) if more else None)

    def iter_all(self, *, batch_size: int = 1000) -> Iterator[ProductDoc]:
        last = None
        model = self._model()
        while True:
            rows = model.objects.order_by("product_id")
            if last is not None:
                rows = rows.filter(product_id__gt=last)
            batch = list(rows[:batch_size])
            if not batch:
                return
            yield from (self._doc(row) for row in batch)
            last = batch[-1].product_id


def _json(value):
    # Django makes psycopg hand jsonb over as text, to parse it itself
    return json.loads(value) if isinstance(value, str) else value


_store: ProductStore | None = None


def product_store() -> ProductStore:
    global _store
    if _store is None:
        _store = import_string(settings.CATALOG_PRODUCT_STORE)()
    return _store


def reset_product_store() -> None:
    """Forget the configured store (tests switch between implementations)."""
    global _store
    _store = None
