"""manage.py reindex: a rebuilt index answers like the one kept by events, and swaps without a gap."""
import time

import pytest
from django.core.management import CommandError, call_command

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


def test_verify_reports_a_clean_index_and_then_each_kind_of_drift(search_index, seller, capsys):
    products = [services.product_create(seller_id=seller.id, name=f"Lamp {n}", description="", price="1",
                                        currency="KRW", category="home", attributes={}, stock=1) for n in range(3)]
    call_command("reindex")
    call_command("reindex", "--verify")
    assert "checked 3 products: 0 missing, 0 stale, 0 extra" in capsys.readouterr().out

    p = index.prefix(search_index.get(index.GENERATION_KEY))
    first, second = (search_index.hget(p + "n", str(x.product_id)) for x in products[:2])
    search_index.hset(p + f"d:{first}", "a", "0")  # no longer searchable
    search_index.hset(p + f"d:{second}", "v", "0")  # an old version
    with pytest.raises(CommandError):
        call_command("reindex", "--verify")
    assert "checked 3 products: 1 missing, 1 stale, 0 extra" in capsys.readouterr().out


def test_a_rebuild_drops_what_an_abandoned_rebuild_left(search_index, seller):
    search_index.set(index.BUILDING_KEY, "dead")
    search_index.set(index.prefix("dead") + "all", "x")
    call_command("reindex")
    assert not search_index.exists(index.prefix("dead") + "all")


def test_a_lost_index_answers_503_and_asks_for_one_rebuild(api_client, search_index):
    from commerce.search import tasks

    search_index.delete(index.GENERATION_KEY)
    assert api_client.post("/catalog/search", {"query": "lamp"}, format="json").status_code == 503
    assert search_index.get(tasks.REBUILD_LOCK) == "1"  # a rebuild was requested...
    assert tasks.request_rebuild() is False  # ...and only one


def _failing_after(count, times):
    """products_iter_all that breaks after ``count`` products on its first ``times`` calls."""
    from commerce.catalog import api as catalog

    real = catalog.products_iter_all
    calls = []

    def iterate(**kwargs):
        calls.append(1)
        for n, record in enumerate(real(**kwargs)):
            if n == count and len(calls) <= times:
                raise ConnectionError("the store dropped the connection")
            yield record

    return iterate


def _lamps(seller, count):
    return [services.product_create(seller_id=seller.id, name=f"Lamp {n}", description="", price="1",
                                    currency="KRW", category="home", attributes={}, stock=1) for n in range(count)]


def test_a_read_error_of_the_store_is_retried_without_losing_the_rebuild(search_index, seller, monkeypatch):
    from commerce.search import rebuild

    _lamps(seller, 5)
    monkeypatch.setattr(rebuild, "BATCH", 2)
    monkeypatch.setattr(rebuild.catalog, "products_iter_all", _failing_after(3, times=1))
    generation, count = rebuild.rebuild()
    assert count == 5
    assert search(query="lamp").total == 5
    call_command("reindex", "--verify")


def test_a_rebuild_that_gave_up_is_continued_by_the_next_one(search_index, seller, monkeypatch):
    from commerce.search import rebuild

    _lamps(seller, 5)
    monkeypatch.setattr(rebuild, "BATCH", 2)
    monkeypatch.setattr(rebuild.catalog, "products_iter_all", _failing_after(4, times=99))
    with pytest.raises(ConnectionError):
        rebuild.rebuild()
    abandoned = search_index.get(index.BUILDING_KEY)
    assert abandoned and search_index.get(index.GENERATION_KEY) == "t1"  # the live index was left alone
    indexed = search_index.hlen(index.prefix(abandoned) + "m")
    assert indexed == 4
    monkeypatch.undo()
    call_command("reindex")
    assert search_index.get(index.GENERATION_KEY) == abandoned  # continued, not started over
    assert search(query="lamp").total == 5
    call_command("reindex", "--verify")


def test_snapshots_are_paused_during_a_rebuild_and_restored(search_index, seller, monkeypatch):
    from commerce.search import rebuild

    _lamps(seller, 1)
    before = search_index.config_get("save")["save"]
    seen = []
    real = rebuild._fill

    def fill(*args, **kwargs):
        seen.append(search_index.config_get("save")["save"])
        return real(*args, **kwargs)

    monkeypatch.setattr(rebuild, "_fill", fill)
    rebuild.rebuild()
    assert seen == [""]
    assert search_index.config_get("save")["save"] == before


def test_a_rebuild_ends_with_a_snapshot_of_the_new_index_when_redis_takes_snapshots(
        search_index, seller, monkeypatch, settings):
    from commerce.search import rebuild

    _lamps(seller, 1)
    settings.SEARCH_SNAPSHOT_AFTER_REBUILD = True
    snapshots = []
    monkeypatch.setattr(rebuild, "_snapshot_now", lambda conn: snapshots.append(conn.get(index.GENERATION_KEY)))
    configured = search_index.config_get("save")["save"]
    try:
        search_index.config_set("save", "900 1")
        generation, _ = rebuild.rebuild()
        assert snapshots == [generation]  # after the switch to the new generation
        search_index.config_set("save", "")
        rebuild.rebuild()
    finally:
        search_index.config_set("save", configured)
    assert len(snapshots) == 1  # Redis without snapshots: nothing to wait for


def test_waiting_for_a_snapshot_returns_once_redis_has_written_one(search_index):
    from commerce.search import rebuild

    before = search_index.lastsave()
    time.sleep(1.1)  # LASTSAVE has a resolution of one second
    rebuild._snapshot_now(search_index, poll=0.05)
    assert search_index.lastsave() > before
    assert not search_index.info("persistence")["rdb_bgsave_in_progress"]
