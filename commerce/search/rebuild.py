"""Rebuilding the index from the catalog's public api, aside, then switching in one SET.

While a rebuild runs, ``search:building`` names its generation and the event handlers write to it
as well as to the live one, so nothing that happens during the rebuild is missed; the versions
make the order of the two kinds of writes irrelevant.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from uuid import UUID

from commerce.catalog import api as catalog
from commerce.search import index

BATCH = 500


def documents(records: Iterable) -> Iterable[index.Document]:
    for record in records:
        yield index.Document(
            product_id=str(record.product_id), seller_id=str(record.seller_id), name=record.name,
            description=record.description, price=record.price, currency=record.currency, category=record.category,
            active=record.active, version=record.version, created_ms=int(record.created_at.timestamp() * 1000),
            attributes=record.attributes,
        )


def rebuild(*, progress: Callable[[int], None] = lambda n: None) -> tuple[str, int]:
    """Build a new generation from every product, make it live, drop the old one.
    Returns (generation, products indexed)."""
    conn = index.client()
    generation = str(time.time_ns())
    conn.set(index.BUILDING_KEY, generation)
    count = 0
    batch: list[index.Document] = []

    def flush():
        nonlocal count
        for doc in batch:
            index.index_product(doc, generations=[generation], conn=conn)
        stock = catalog.stock_availability([UUID(doc.product_id) for doc in batch])
        for product_id, availability in stock.items():
            index.set_in_stock(str(product_id), availability.in_stock, availability.version,
                               generations=[generation], conn=conn)
        count += len(batch)
        progress(len(batch))
        batch.clear()

    for doc in documents(catalog.products_iter_all(batch_size=1000)):
        batch.append(doc)
        if len(batch) >= BATCH:
            flush()
    flush()
    old = conn.get(index.GENERATION_KEY)
    conn.set(index.GENERATION_KEY, generation)
    conn.delete(index.BUILDING_KEY)
    if old and old != generation:
        drop_generation(old, conn)
    return generation, count


def drop_generation(generation: str, conn) -> None:
    for keys in _chunks(conn.scan_iter(match=index.prefix(generation) + "*", count=1000), 1000):
        conn.unlink(*keys)


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
