"""manage.py reindex: a rebuilt index answers like the one kept by events, and swaps without a gap."""
import pytest
from django.core.management import call_command

from commerce.catalog import services
from commerce.eventbus.delivery import deliver
from commerce.eventbus.relay import relay_all
from commerce.search import index
from commerce.search.query import search

pytestmark = pytest.mark.django_db(transaction=True)

QUERIES = [dict(query="이어폰"), dict(query="blue"), dict(query="lamp", in_stock=True), dict(category="home"),
           dict(sort="priceDesc"), dict(query="무선", sort="newest")]


def answers():
    return [([i["productId"] for i in r.items], r.total, r.facets) for r in (search(limit=50, **q) for q in QUERIES)]


def test_a_rebuilt_index_equals_the_incremental_one(search_index, seller):
    made = []
    for name, category, stock in [("무선 이어폰", "electronics", 3), ("Bluetooth Lamp", "home", 0),
                                  ("Desk lamp", "home", 2), ("무선 마우스 blue", "computers", 1)]:
        made.append(services.product_create(seller_id=seller.id, name=name, description="", price="15000",
                                            currency="KRW", category=category, attributes={}, stock=stock))
    services.product_update(product_id=made[2].product_id, actor_id=seller.id, name="Desk lamp", description="",
                            price="9000", currency="KRW", category="home", attributes={}, active=False)
    sends = []
    relay_all(sender=sends.extend)
    for send in sends:
        deliver(send.dispatch_id, send.handler, send.partition)
    incremental = answers()
    assert incremental[0][1] == 1 and incremental[3][1] == 1  # the deactivated lamp is gone

    old_generation = search_index.get(index.GENERATION_KEY)
    call_command("reindex")
    new_generation = search_index.get(index.GENERATION_KEY)
    assert new_generation != old_generation
    assert answers() == incremental
    assert not list(search_index.scan_iter(match=index.prefix(old_generation) + "*"))  # old one dropped
    assert search_index.get(index.BUILDING_KEY) is None


def test_reindex_if_missing_builds_only_a_lost_index(search_index, seller):
    services.product_create(seller_id=seller.id, name="Lost lamp", description="", price="1", currency="KRW",
                            category="home", attributes={}, stock=1)
    search_index.flushdb()  # Redis restarted empty
    call_command("reindex", "--if-missing")
    assert [i["name"] for i in search(query="lamp").items] == ["Lost lamp"]
    generation = search_index.get(index.GENERATION_KEY)
    call_command("reindex", "--if-missing")
    assert search_index.get(index.GENERATION_KEY) == generation
