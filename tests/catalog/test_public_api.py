"""The catalog's public facade, as other contexts (orders, search) call it."""
import uuid
from decimal import Decimal

import pytest

from commerce.catalog import api, services

pytestmark = pytest.mark.django_db(transaction=True)

SELLER = uuid.uuid4()


def create(name, price="12900", stock=3):
    return services.product_create(seller_id=SELLER, name=name, description="", price=Decimal(price),
                                   currency="KRW", category="electronics", attributes={"color": "red"}, stock=stock)


def test_snapshots_carry_what_an_order_copies_and_skip_unknown_ids():
    earbuds, cable = create("Earbuds", "12900"), create("Cable", "3500.5", stock=0)
    unknown = uuid.uuid4()

    snapshots = api.product_snapshots([earbuds.product_id, cable.product_id, unknown])

    assert set(snapshots) == {earbuds.product_id, cable.product_id}
    snap = snapshots[earbuds.product_id]
    assert (snap.name, snap.price, snap.currency, snap.seller_id, snap.active, snap.available) == (
        "Earbuds", Decimal("12900.00"), "KRW", SELLER, True, 3)
    assert (snapshots[cable.product_id].price, snapshots[cable.product_id].available) == (Decimal("3500.50"), 0)


def test_snapshots_show_the_current_price_after_a_change():
    product = create("Earbuds", "12900")
    services.product_update(product_id=product.product_id, actor_id=SELLER, name="Earbuds", description="",
                            price=Decimal("9900"), currency="KRW", category="electronics", attributes={})
    assert api.product_snapshots([product.product_id])[product.product_id].price == Decimal("9900.00")


def test_snapshots_follow_the_committed_change_even_before_the_document_store_has_it(monkeypatch):
    """Orders must never copy a price older than the last committed change: snapshots read the
    offer written in the change's own transaction, not the (after-commit) document store."""
    product = create("Earbuds", "12900")
    monkeypatch.setattr(services, "_store_document", lambda doc: None)  # the store write is late
    services.product_update(product_id=product.product_id, actor_id=SELLER, name="Earbuds Pro", description="",
                            price=Decimal("15900"), currency="KRW", category="electronics", attributes={},
                            active=False)
    snap = api.product_snapshots([product.product_id])[product.product_id]
    assert (snap.name, snap.price, snap.active) == ("Earbuds Pro", Decimal("15900.00"), False)


def test_products_iter_all_yields_every_document_once():
    made = {create(f"Product {i}").product_id for i in range(5)}
    seen = [record.product_id for record in api.products_iter_all(batch_size=2)]
    assert sorted(seen) == sorted(made)


def test_stock_in_stock_answers_per_product():
    full, empty = create("Full", stock=2), create("Empty", stock=0)
    assert api.stock_in_stock([full.product_id, empty.product_id]) == {full.product_id: True, empty.product_id: False}
