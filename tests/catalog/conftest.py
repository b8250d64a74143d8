"""Catalog fixtures: products made through the service, and a seller's API client."""
from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def seller_client(client_for, seller):
    """``seller``, logged in over the API."""
    return client_for(seller)


@pytest.fixture
def make_product(db):
    """Factory: ``make_product(seller, name=..., stock=...)`` through ``services.product_create``."""
    from commerce.catalog import services

    def make(seller, **fields):
        values = {"name": "Wireless Earbuds", "description": "Noise cancelling.", "price": Decimal("12900.00"),
                  "currency": "KRW", "category": "electronics", "attributes": {}, "stock": 10, **fields}
        return services.product_create(seller_id=seller.id, **values)

    return make


# Every catalog test runs against both product stores. Product writes reach a non-transactional
# store (Cassandra) after the commit, so catalog tests use real transactions (transaction=True).
STORES = {
    "postgres": "commerce.catalog.store.PostgresProductStore",
    "cassandra": "commerce.catalog.cassandra_store.CassandraProductStore",
}


@pytest.fixture(autouse=True, params=list(STORES))
def product_store_kind(request, settings):
    from commerce.catalog.store import product_store, reset_product_store

    settings.CATALOG_PRODUCT_STORE = STORES[request.param]
    reset_product_store()
    if request.param == "cassandra":
        product_store().truncate()
    yield request.param
    reset_product_store()
