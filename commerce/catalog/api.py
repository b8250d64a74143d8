"""The catalog's public facade for other contexts: plain values in, frozen dataclasses out."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from commerce.catalog import selectors
from commerce.catalog.store import ProductDoc, product_store
from commerce.shared import lookups
from commerce.shared.lookups import Lookup


@dataclass(frozen=True)
class ProductSnapshot:
    """What an order copies at the moment it is placed."""

    product_id: UUID
    seller_id: UUID
    name: str
    price: Decimal
    currency: str
    active: bool
    available: int


# A whole product document (what search indexes), without stock: the store's own frozen
# dataclass, published here under the name other contexts use.
ProductRecord = ProductDoc


def product_snapshots(product_ids: Iterable[UUID]) -> dict[UUID, ProductSnapshot]:
    """Snapshots of the products that exist (unknown ids are simply missing): the current offer
    of each (committed with the product's last change) and its available stock, in one query."""
    return lookups.run(product_snapshots_lookup(product_ids))


def product_snapshots_lookup(product_ids: Iterable[UUID]) -> Lookup[dict[UUID, ProductSnapshot]]:
    """``product_snapshots`` as a lookup, to be sent together with other contexts' lookups."""
    return selectors.product_offers_lookup(product_ids).then(
        lambda rows: {row[0]: ProductSnapshot(*row) for row in rows})


def products_iter_all(*, batch_size: int = 1000) -> Iterator[ProductRecord]:
    """Every product document, for rebuilding read models (search reindexing)."""
    return product_store().iter_all(batch_size=batch_size)


def stock_in_stock(product_ids: Iterable[UUID]) -> dict[UUID, bool]:
    return {pid: level.available > 0 for pid, level in selectors.stock_levels(product_ids).items()}


@dataclass(frozen=True)
class StockAvailability:
    in_stock: bool
    version: int  # the version that StockAvailabilityChanged events carry as aggregate_version


def stock_availability(product_ids: Iterable[UUID]) -> dict[UUID, StockAvailability]:
    """In stock or not, with the stock version, for read models rebuilt from scratch."""
    return {pid: StockAvailability(level.available > 0, level.version)
            for pid, level in selectors.stock_levels(product_ids).items()}
