import itertools
import uuid
from decimal import Decimal

import pytest

from commerce.search import index

_clock = itertools.count(1_700_000_000_000, 1000)


@pytest.fixture
def search_index():
    """An empty live generation in the test search database, and no products left in the
    catalog's store from earlier tests (a rebuild reads the store)."""
    from commerce.catalog.store import product_store

    store = product_store()
    if hasattr(store, "truncate"):
        store.truncate()
    conn = index.client()
    conn.flushdb()
    conn.set(index.GENERATION_KEY, "t1")
    yield conn
    conn.flushdb()


@pytest.fixture
def add(search_index):
    """``add(name, ...)`` indexes a product (a newer one each call) and returns its id."""

    def make(name, *, category="electronics", description="", price="10000", seller=None, in_stock=True,
             version=1, product_id=None, created_ms=None):
        product_id = product_id or str(uuid.uuid4())
        index.index_product(index.Document(
            product_id=product_id, seller_id=seller or "s-1", name=name, description=description,
            price=Decimal(price), currency="KRW", category=category, active=True, version=version,
            created_ms=created_ms or next(_clock), attributes={},
        ))
        index.set_in_stock(product_id, in_stock, version)
        return product_id

    return make
