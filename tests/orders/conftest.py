"""Orders fixtures: products on the PostgreSQL store, a buyer with a usable payment method and an
address, and helpers to read what the orders context published."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from commerce.eventbus.models import OutboxEvent


@pytest.fixture(autouse=True)
def _postgres_product_store(settings):
    from commerce.catalog.store import reset_product_store

    settings.CATALOG_PRODUCT_STORE = "commerce.catalog.store.PostgresProductStore"
    reset_product_store()
    yield
    reset_product_store()


@pytest.fixture
def product(db):
    """Factory: ``product(stock=10, price="12900.00", name=...)`` -> product id."""
    from commerce.catalog import services

    seller = uuid.uuid4()

    def make(*, stock=10, price="12900.00", name="Wireless Earbuds", currency="KRW"):
        doc = services.product_create(seller_id=seller, name=name, description="", price=Decimal(price),
                                      currency=currency, category="electronics", attributes={}, stock=stock)
        return doc.product_id

    return make


@pytest.fixture
def buyer_setup(db):
    """Factory: ``buyer_setup(member) -> (method_id, address_id)``: a saved card (as the gateway
    would have tokenised it: no gateway needed here) and an address, both the member's own."""
    from commerce.delivery import services as delivery_services
    from commerce.payments.models import PaymentMethod

    def make(member):
        method = PaymentMethod.objects.create(member_id=member.id, gateway_token=f"tok_{uuid.uuid4().hex}",
                                              brand="visa", last4="4242", exp_month=12, exp_year=2035,
                                              holder_name="Test Buyer")
        address = delivery_services.address_create(owner_id=member.id, recipient="Test Buyer", phone="+821000000000",
                                                   line1="1 Test Street", line2="", city="Seoul", postal_code="04524",
                                                   country="KR")
        return str(method.id), str(address.id)

    return make


def published(name: str, aggregate_id=None) -> list[OutboxEvent]:
    rows = OutboxEvent.objects.filter(name=name)
    if aggregate_id is not None:
        rows = rows.filter(aggregate_id=str(aggregate_id))
    return list(rows.order_by("id"))


def change_product(product_id, **changes) -> None:
    """A seller's change of a product, through the catalog's service."""
    from commerce.catalog import selectors, services

    doc = selectors.product_get(product_id=product_id).doc
    fields = {"name": doc.name, "description": doc.description, "price": doc.price, "currency": doc.currency,
              "category": doc.category, "attributes": doc.attributes, "active": doc.active, **changes}
    services.product_update(product_id=product_id, actor_id=doc.seller_id, **fields)
