"""Product documents converge on the newest version in the store, the API and the event stream:
after a process dies between the outbox commit and the store write, and under concurrent
updates. Runs against both stores (see conftest.py); the Cassandra store is the one where the
commit and the store write are two systems."""
import random
import subprocess
import sys
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connections

from commerce.catalog import services
from commerce.catalog.models import Product
from commerce.catalog.services import doc_from_event
from commerce.catalog.store import product_store
from commerce.eventbus import codec
from commerce.eventbus.delivery import deliver
from commerce.eventbus.models import OutboxEvent
from commerce.eventbus.relay import relay_all
from tests.support.processes import ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)

SELLER = uuid.uuid4()
FIELDS = {"description": "", "price": Decimal("15000.00"), "currency": "KRW", "category": "electronics",
          "attributes": {}}

# Runs in a child process: commit the product change, then die (SIGKILL-like, no cleanup) at the
# very moment the document would be written to the store.
DYING_WRITER = """
import os, sys, uuid, django
django.setup()
from django.conf import settings
from commerce.catalog import services, store
settings.CATALOG_PRODUCT_STORE = sys.argv[1]
store.reset_product_store()
type(store.product_store()).put = lambda self, doc: os._exit(137)
product_id = sys.argv[3]
fields = dict(description="", price="15000.00", currency="KRW", category="electronics", attributes={})
if sys.argv[2] == "create":
    services.product_create(seller_id=uuid.UUID(sys.argv[4]), name="Made by a dying process", stock=3, **fields)
else:
    services.product_update(product_id=uuid.UUID(product_id), actor_id=uuid.UUID(sys.argv[4]),
                            name="Renamed by a dying process", **fields)
print("the process should have died before this line")
"""


def run_dying_writer(action, product_id=""):
    from django.conf import settings

    result = subprocess.run([sys.executable, "-c", DYING_WRITER, settings.CATALOG_PRODUCT_STORE, action,
                             str(product_id), str(SELLER)], env=child_env(), cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 137, result.stdout + result.stderr


def relay_and_deliver():
    sends = []
    relay_all(sender=sends.extend)
    for send in sends:
        deliver(send.dispatch_id, send.handler, send.partition)


def test_a_writer_killed_between_commit_and_store_write_converges_after_the_relay():
    run_dying_writer("create")
    if product_store().transactional:
        # the store write belongs to the transaction: the dying process left nothing at all
        assert not Product.objects.filter(seller_id=SELLER).exists()
        assert not OutboxEvent.objects.filter(name="catalog.product_changed").exists()
        created = services.product_create(seller_id=SELLER, name="Made by a dying process", stock=3, **FIELDS)
        run_dying_writer("update", created.product_id)
        assert Product.objects.get(id=created.product_id).version == 1
        assert product_store().get(created.product_id).version == 1
        return

    [head] = Product.objects.filter(seller_id=SELLER)
    assert product_store().get(head.id) is None  # committed in PostgreSQL, missing from the store

    relay_and_deliver()
    doc = product_store().get(head.id)
    assert (doc.name, doc.version) == ("Made by a dying process", 1)
    assert [d.product_id for d in product_store().list_by_seller(SELLER, limit=10).items] == [head.id]

    run_dying_writer("update", head.id)
    assert product_store().get(head.id).version == 1  # the store is behind again
    relay_and_deliver()
    doc = product_store().get(head.id)
    assert (doc.name, doc.version) == ("Renamed by a dying process", 2)


def test_concurrent_updates_end_on_the_highest_version_everywhere(api_client):
    created = services.product_create(seller_id=SELLER, name="v1", stock=1, **FIELDS)
    errors = []

    def updater(thread):
        try:
            for round_ in range(5):
                services.product_update(product_id=created.product_id, actor_id=SELLER,
                                        name=f"thread {thread} round {round_}", **FIELDS)
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=updater, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    events = [codec.decode(row.name, _payload(row)) for row in
              OutboxEvent.objects.filter(name="catalog.product_changed", aggregate_id=str(created.product_id))]
    versions = sorted(e.aggregate_version for e in events)
    assert versions == list(range(1, 42))  # every change has its own version, none lost
    newest = max(events, key=lambda e: e.aggregate_version)
    assert Product.objects.get(id=created.product_id).version == 41

    def everywhere():
        doc = product_store().get(created.product_id)
        body = api_client.get(f"/catalog/products/{created.product_id}").json()
        return (doc.version, doc.name), (body["version"], body["name"])

    assert everywhere() == ((41, newest.product_name), (41, newest.product_name))

    # every event redelivered, in a random order: the store stays on the newest
    random.shuffle(events)
    for event in events:
        product_store().put(doc_from_event(event))
    relay_and_deliver()
    assert everywhere() == ((41, newest.product_name), (41, newest.product_name))


def _payload(row):
    import json

    return json.dumps(row.payload)
