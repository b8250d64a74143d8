"""Catalog reads: product documents from the product store joined with stock from PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import connection

from commerce.catalog.store import ProductDoc, product_store
from commerce.shared.errors import NotFound
from commerce.shared.lookups import Lookup


@dataclass(frozen=True)
class StockLevel:
    product_id: UUID
    available: int
    reserved: int
    version: int = 0


@dataclass(frozen=True)
class ProductView:
    doc: ProductDoc
    available: int


def stock_levels(product_ids: Iterable[UUID]) -> dict[UUID, StockLevel]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT product_id, on_hand - reserved, reserved, version FROM catalog_stock WHERE product_id = ANY(%s)",
            [list(product_ids)],
        )
        return {row[0]: StockLevel(*row) for row in cursor.fetchall()}


def product_offers_lookup(product_ids: Iterable[UUID]) -> Lookup[list[tuple]]:
    """(id, seller, name, price, currency, active, available) of the products that exist."""
    return Lookup(
        "SELECT p.id, p.seller_id, p.name, p.price, p.currency, p.active, COALESCE(s.on_hand - s.reserved, 0)"
        " FROM catalog_product p LEFT JOIN catalog_stock s ON s.product_id = p.id WHERE p.id = ANY(%s)",
        [list(product_ids)], list,
    )


def product_get(*, product_id: UUID) -> ProductView:
    doc = product_store().get(product_id)
    if doc is None or not doc.active:
        raise NotFound("No such product.")
    level = stock_levels([product_id]).get(product_id)
    return ProductView(doc, level.available if level else 0)


def products_get_many(product_ids: Iterable[UUID]) -> dict[UUID, ProductView]:
    ids = list(product_ids)
    docs = product_store().get_many(ids)
    levels = stock_levels(docs.keys())
    return {pid: ProductView(doc, levels[pid].available if pid in levels else 0) for pid, doc in docs.items()}
