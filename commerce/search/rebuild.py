"""Rebuilding the index from the catalog's public api, aside, then switching in one SET.

While a rebuild runs, ``search:building`` names its generation and the event handlers write to it
as well as to the live one, so nothing that happens during the rebuild is missed; the versions
make the order of the two kinds of writes irrelevant.

Products go to Redis in batches, one script call per batch with its postings grouped by token,
from a second thread while this one reads and tokenises the next batch. A rebuild that stops
half-way (an error of the catalog's store, a killed process) leaves its generation named by
``search:building``; the next rebuild continues it, skipping what is already indexed at the
catalog's version. A read error of the store is retried the same way, a few times, before the
rebuild gives up. Redis does not take RDB snapshots while a rebuild writes (each would fork and
copy the whole growing index); they are turned back on at the end, and the rebuild waits for one
snapshot of the new index (``SEARCH_SNAPSHOT_AFTER_REBUILD``) so that it is on disk when the
rebuild returns, instead of Redis starting that snapshot on its own under live traffic.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import redis
from django.conf import settings

from commerce.catalog import api as catalog
from commerce.search import index

log = logging.getLogger(__name__)

BATCH = 1000
READ_ATTEMPTS = 4
LAYOUT = "v2-"  # generations of this index layout; an abandoned build of another layout is dropped


def documents(records: Iterable) -> Iterable[index.Document]:
    for record in records:
        yield document(record)


def document(record) -> index.Document:
    return index.Document(
        product_id=str(record.product_id), seller_id=str(record.seller_id), name=record.name,
        description=record.description, price=record.price, currency=record.currency, category=record.category,
        active=record.active, version=record.version, created_ms=int(record.created_at.timestamp() * 1000),
        attributes=record.attributes,
    )


_VERSIONS = """
local p = ARGV[1]
local out = {}
for n = 2, #ARGV do
  local i = redis.call('HGET', p .. 'n', ARGV[n])
  out[#out + 1] = i and (redis.call('HGET', p .. 'd:' .. i, 'v') or '') or ''
end
return out
"""


def _new_generation() -> str:
    digits, n, out = "0123456789abcdefghijklmnopqrstuvwxyz", time.time_ns(), ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return LAYOUT + out


def rebuild(*, progress: Callable[[int], None] = lambda n: None, resume: bool = True) -> tuple[str, int]:
    """Build a new generation from every product (or continue an abandoned one), make it live,
    drop the old one. Returns (generation, products indexed)."""
    conn = index.client()
    abandoned = conn.get(index.BUILDING_KEY)
    if abandoned and (not resume or not abandoned.startswith(LAYOUT)):
        drop_generation(abandoned, conn)  # its keys would only take memory
        abandoned = None
    generation = abandoned or _new_generation()
    conn.set(index.BUILDING_KEY, generation)
    snapshots = _pause_snapshots(conn)
    try:
        count = _fill(conn, generation, progress, skip_indexed=bool(abandoned))
    finally:
        _resume_snapshots(conn, snapshots)
    old = conn.get(index.GENERATION_KEY)
    conn.set(index.GENERATION_KEY, generation)
    conn.delete(index.BUILDING_KEY)
    if old and old != generation:
        drop_generation(old, conn)
    if snapshots and settings.SEARCH_SNAPSHOT_AFTER_REBUILD:
        _snapshot_now(conn)
    return generation, count


def _snapshot_now(conn: redis.Redis, *, poll: float = 0.5) -> None:
    """Write the new index to disk before returning: a restart then finds it, and the snapshot
    that Redis would otherwise start on its own soon after (the whole index is new) does not land
    on live traffic later. It takes a core for about 20 s at 1M products."""
    try:
        conn.bgsave()
    except redis.ResponseError:  # one is running already: wait for it
        pass
    while conn.info("persistence").get("rdb_bgsave_in_progress"):
        time.sleep(poll)


def _fill(conn: redis.Redis, generation: str, progress: Callable[[int], None], *, skip_indexed: bool) -> int:
    """Index every product of the catalog into ``generation``; returns how many were read."""
    versions = conn.register_script(_VERSIONS)
    p = index.prefix(generation)
    count = 0
    attempt = 0
    with ThreadPoolExecutor(1, thread_name_prefix="search-rebuild") as writer:
        pending: Future | None = None

        def send(batch: list) -> None:
            nonlocal pending
            ids = [record.product_id for record in batch]
            if skip_indexed:
                known = versions(args=[p, *map(str, ids)])
                batch = [r for r, v in zip(batch, known, strict=True) if not v or int(v) < r.version]
            stock = catalog.stock_availability([record.product_id for record in batch])
            args = []
            for record in batch:
                level = stock.get(record.product_id)
                args += index.product_args(document(record), None if level is None else (level.version, level.in_stock))
            if pending is not None:
                pending.result()
            pending = writer.submit(index.index_products_args, conn, generation, args) if args else None

        while True:
            seen = 0
            batch: list = []
            try:
                for record in catalog.products_iter_all(batch_size=1000):
                    batch.append(record)
                    if len(batch) >= BATCH:
                        send(batch)
                        seen += len(batch)
                        if seen > count:
                            progress(seen - count)
                            count = seen
                        batch = []
                send(batch)
                seen += len(batch)
                if seen > count:
                    progress(seen - count)
                    count = seen
                break
            except redis.RedisError:
                raise
            except Exception:
                attempt += 1
                if attempt >= READ_ATTEMPTS:
                    raise
                log.warning("search rebuild: reading the catalog failed after %d products; reading it again "
                            "(attempt %d of %d), skipping what is indexed", seen, attempt + 1, READ_ATTEMPTS,
                            exc_info=True)
                skip_indexed = True
        if pending is not None:
            pending.result()
    return count


def _pause_snapshots(conn: redis.Redis) -> str | None:
    """Turn RDB snapshots off for the rebuild; returns the setting to restore (None: left alone)."""
    try:
        save = conn.config_get("save").get("save")
        if save:
            conn.config_set("save", "")
        return save or None
    except redis.ResponseError:  # CONFIG renamed or refused (a managed Redis): leave it
        return None


def _resume_snapshots(conn: redis.Redis, save: str | None) -> None:
    if save:
        conn.config_set("save", save)


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
