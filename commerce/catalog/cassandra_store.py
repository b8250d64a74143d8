"""The Cassandra product store: documents in Cassandra, written with prepared statements and
``USING TIMESTAMP <version>``, so that whatever order writes arrive in (a retry, the repair by the
relay, two concurrent updates), the cell with the highest version wins everywhere.

Every write to these tables must carry the version as its timestamp: a write with the server's
clock (about 1.7e15 microseconds) would shadow every later version for good.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from commerce.catalog.store import ProductDoc, SellerPage
from commerce.shared import cassandra

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COLUMNS = ("product_id, seller_id, name, description, price, currency, category, attributes, active, version,"
            " created_at_us, updated_at_us")


def to_micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class CassandraProductStore:
    transactional = False

    def __init__(self):
        self._lock = threading.Lock()
        self._statements: dict[str, object] | None = None
        self._session_id: int | None = None

    def session(self):
        return cassandra.session()

    def _prepared(self) -> dict[str, object]:
        session = self.session()
        # prepared statements belong to a session (a forked worker gets a new one)
        if self._statements is None or self._session_id != id(session):
            with self._lock:
                keyspace = cassandra.keyspace()
                prepare = session.prepare
                self._statements = {
                    "get": prepare(f"SELECT {_COLUMNS} FROM {keyspace}.products_by_id WHERE product_id = ?"),
                    "get_many": prepare(f"SELECT {_COLUMNS} FROM {keyspace}.products_by_id WHERE product_id IN ?"),
                    "put": prepare(
                        f"INSERT INTO {keyspace}.products_by_id ({_COLUMNS})"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"
                    ),
                    "put_seller": prepare(
                        f"INSERT INTO {keyspace}.products_by_seller (seller_id, created_at_us, product_id)"
                        " VALUES (?, ?, ?) USING TIMESTAMP ?"
                    ),
                    "by_seller": prepare(
                        f"SELECT product_id FROM {keyspace}.products_by_seller WHERE seller_id = ? LIMIT ?"
                    ),
                    "by_seller_after": prepare(
                        f"SELECT product_id FROM {keyspace}.products_by_seller WHERE seller_id = ?"
                        " AND (created_at_us, product_id) < (?, ?) LIMIT ?"
                    ),
                    "scan": prepare(f"SELECT {_COLUMNS} FROM {keyspace}.products_by_id"),
                }
                self._session_id = id(session)
        return self._statements

    @staticmethod
    def _doc(row: dict) -> ProductDoc:
        # rows are dicts: the session is shared with cqlengine, which sets a dict row factory
        return ProductDoc(
            product_id=row["product_id"], seller_id=row["seller_id"], name=row["name"],
            description=row["description"], price=row["price"], currency=row["currency"],
            category=row["category"], attributes=json.loads(row["attributes"]), active=row["active"],
            version=row["version"], created_at=from_micros(row["created_at_us"]),
            updated_at=from_micros(row["updated_at_us"]),
        )

    def get(self, product_id: UUID) -> ProductDoc | None:
        row = self.session().execute(self._prepared()["get"], (product_id,)).one()
        return self._doc(row) if row else None

    def get_many(self, product_ids: Iterable[UUID]) -> dict[UUID, ProductDoc]:
        ids = list(dict.fromkeys(product_ids))
        if not ids:
            return {}
        rows = self.session().execute(self._prepared()["get_many"], (ids,))
        return {row["product_id"]: self._doc(row) for row in rows}

    def put(self, doc: ProductDoc) -> None:
        statements = self._prepared()
        session = self.session()
        created = to_micros(doc.created_at)
        futures = [session.execute_async(statements["put"], (
            doc.product_id, doc.seller_id, doc.name, doc.description, doc.price, doc.currency, doc.category,
            json.dumps(doc.attributes), doc.active, doc.version, created, to_micros(doc.updated_at), doc.version,
        ))]
        if doc.version == 1:  # the seller index row never changes after creation
            futures.append(session.execute_async(statements["put_seller"],
                                                 (doc.seller_id, created, doc.product_id, 1)))
        for future in futures:
            future.result()

    def list_by_seller(self, seller_id: UUID, *, limit: int,
                       after: tuple[datetime, UUID] | None = None) -> SellerPage:
        statements = self._prepared()
        if after is None:
            rows = self.session().execute(statements["by_seller"], (seller_id, limit + 1))
        else:
            rows = self.session().execute(statements["by_seller_after"],
                                          (seller_id, to_micros(after[0]), after[1], limit + 1))
        ids = [row["product_id"] for row in rows]
        more = len(ids) > limit
        ids = ids[:limit]
        docs = self.get_many(ids)
        page = [docs[pid] for pid in ids if pid in docs]
        return SellerPage(page, (page[-1].created_at, page[-1].product_id) if more and page else None)

    def iter_all(self, *, batch_size: int = 1000) -> Iterator[ProductDoc]:
        statement = self._prepared()["scan"]
        statement.fetch_size = batch_size  # the driver pages through the token ring
        for row in self.session().execute(statement):
            yield self._doc(row)

    def truncate(self) -> None:
        """Empty both tables (tests)."""
        keyspace = cassandra.keyspace()
        for table in ("products_by_id", "products_by_seller"):
            self.session().execute(f"TRUNCATE {keyspace}.{table}")
