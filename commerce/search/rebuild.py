"""Rebuilding the index from the catalog's public api, aside, then switching in one SET.

While a rebuild runs, ``search:building`` names its generation and the event handlers write to it
as well as to the live one, so nothing that happens during the rebuild is missed; the versions
make the order of the two kinds of writes irrelevant.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
    abandoned = conn.get(index.BUILDING_KEY)
    if abandoned:  # a rebuild that died half-way: its keys would only take memory
        drop_generation(abandoned, conn)
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


@dataclass
class Drift:
    checked: int = 0
    missing: int = 0  # in the catalog (active), not searchable
    stale: int = 0  # indexed at an older version, or with the wrong in-stock flag
    extra: int = 0  # searchable, but inactive or unknown in the catalog
    examples: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def verify(*, progress: Callable[[int], None] = lambda n: None) -> Drift:
    """Compare the live index with the catalog, product by product."""
    conn = index.client()
    generation = conn.get(index.GENERATION_KEY)
    if not generation:
        raise index.IndexLost("There is no live search index to verify.")
    p = index.prefix(generation)
    drift = Drift()
    seen: set[str] = set()
    batch: list = []

    def check():
        ids = conn.hmget(p + "n", [str(r.product_id) for r in batch])
        stock = catalog.stock_availability([r.product_id for r in batch])
        pipe = conn.pipeline(transaction=False)
        for internal in ids:
            pipe.hmget(p + f"d:{internal}", "v", "a", "st") if internal else pipe.echo("")
        for record, internal, fields in zip(batch, ids, pipe.execute(), strict=True):
            drift.checked += 1
            if internal:
                seen.add(internal)
            version, active, in_stock = fields if internal else (None, None, None)
            expected_stock = stock.get(record.product_id)
            problem = None
            if record.active and (not internal or active != "1"):
                drift.missing += 1
                problem = "missing"
            elif not record.active and active == "1":
                drift.extra += 1
                problem = "inactive but searchable"
            elif record.active and (int(version or 0) < record.version or (
                    expected_stock and (in_stock == "1") != expected_stock.in_stock)):
                drift.stale += 1
                problem = "stale"
            if problem and len(drift.examples) < 10:
                drift.examples.append(f"{record.product_id}: {problem}")
        progress(len(batch))
        batch.clear()

    for record in catalog.products_iter_all(batch_size=1000):
        batch.append(record)
        if len(batch) >= BATCH:
            check()
    check()
    searchable = conn.zrange(p + "all", 0, -1)
    orphans = [i for i in searchable if i not in seen]
    drift.extra += len(orphans)
    drift.examples += [f"internal id {i}: searchable, unknown to the catalog" for i in orphans[:3]]
    return drift
