"""The product store: newest version wins, seller listing, full scan, and convergence through the
outbox when the write to the store is lost after the commit."""
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.catalog import services
from commerce.catalog.store import ProductDoc, product_store
from commerce.eventbus.delivery import deliver
from commerce.eventbus.relay import relay_all

pytestmark = pytest.mark.django_db(transaction=True)


def doc(version=1, seller=None, created_at=None, name="Wireless earbuds"):
    now = created_at or timezone.now()
    return ProductDoc(product_id=uuid.uuid4(), seller_id=seller or uuid.uuid4(), name=name, description="d",
                      price=Decimal("12900.00"), currency="KRW", category="electronics", attributes={"color": "blue"},
                      version=version, created_at=now, updated_at=now)


def test_put_keeps_the_newest_version_whatever_the_order_of_writes():
    store = product_store()
    v1 = doc()
    v3 = replace(v1, version=3, name="v3")
    v2 = replace(v1, version=2, name="v2")
    store.put(v1)
    store.put(v3)
    store.put(v2)  # late and older: ignored
    store.put(v3)  # repeated: harmless
    assert store.get(v1.product_id) == v3


def test_get_many_returns_only_existing_products():
    store = product_store()
    a, b = doc(), doc()
    store.put(a)
    store.put(b)
    assert store.get_many([a.product_id, b.product_id, uuid.uuid4()]) == {a.product_id: a, b.product_id: b}


def test_list_by_seller_is_newest_first_and_pages_without_gaps():
    store = product_store()
    seller = uuid.uuid4()
    start = timezone.now()
    docs = [doc(seller=seller, created_at=start + timedelta(seconds=i)) for i in range(5)]
    for d in docs:
        store.put(d)
    store.put(doc())  # someone else's
    first = store.list_by_seller(seller, limit=2)
    second = store.list_by_seller(seller, limit=2, after=first.next_after)
    third = store.list_by_seller(seller, limit=2, after=second.next_after)
    listed = [d.product_id for page in (first, second, third) for d in page.items]
    assert listed == [d.product_id for d in reversed(docs)]
    assert third.next_after is None


def test_iter_all_visits_every_product_once():
    store = product_store()
    docs = [doc() for _ in range(7)]
    for d in docs:
        store.put(d)
    assert sorted(d.product_id for d in store.iter_all(batch_size=3)) == sorted(d.product_id for d in docs)


def test_a_store_write_lost_after_the_commit_is_repaired_by_the_relay(monkeypatch):
    real_put = type(product_store()).put
    monkeypatch.setattr(type(product_store()), "put", lambda self, d: None)  # the process died right here
    created = services.product_create(seller_id=uuid.uuid4(), name="Lost write", description="", price=Decimal("1"),
                                      currency="KRW", category="other", attributes={}, stock=1)
    assert product_store().get(created.product_id) is None
    monkeypatch.setattr(type(product_store()), "put", real_put)
    sends = []
    relay_all(sender=sends.extend)
    assert any(s.handler == "catalog.apply_product_document" for s in sends)
    for send in sends:
        deliver(send.dispatch_id, send.handler, send.partition)
    assert product_store().get(created.product_id) == created
