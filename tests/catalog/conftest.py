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
