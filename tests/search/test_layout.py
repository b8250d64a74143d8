"""The index layout's shortcuts on real Redis: ordered heads, counters, range reads, batch writes."""
import random
import uuid
from decimal import Decimal

import pytest

from commerce.search import index
from commerce.search.query import search


def names(result):
    return [item["name"] for item in result.items]


def every_page(**criteria):
    pages, cursor = [], None
    while True:
        result = search(cursor=cursor, **criteria)
        pages.append(names(result))
        cursor = result.next_cursor
        if not cursor:
            return pages


@pytest.fixture
def small_head(monkeypatch):
    monkeypatch.setattr(index, "HEAD", 4)


def test_a_one_word_search_pages_through_the_head_in_order_whatever_order_products_came_in(add, small_head):
    created = list(range(1, 11))
    random.Random(3).shuffle(created)
    for ms in created:
        add(f"Lamp {ms:02}", created_ms=1_700_000_000_000 + ms)
    result = search(query="lamp", limit=2)
    assert names(result) == ["Lamp 10", "Lamp 09"]
    assert result.total == 10 and not result.total_is_lower_bound  # the count is exact beyond the head
    assert result.facets == {"electronics": 10}
    # pages reach as deep as the head, exactly in order
    assert every_page(query="lamp", limit=3) == [["Lamp 10", "Lamp 09", "Lamp 08"], ["Lamp 07"]]


def test_the_head_prefers_name_matches_and_earlier_words(add, small_head):
    for n in range(5):
        add(f"Cable {n}", description="for a speaker")
    add("Stand for a speaker")
    add("Speaker Stand")
    assert names(search(query="speaker", limit=3)) == ["Speaker Stand", "Stand for a speaker", "Cable 4"]


def test_removing_a_product_from_a_head_keeps_the_rest_in_order(add, small_head):
    ids = [add(f"Lamp {n}") for n in range(8)]
    index.index_product(index.Document(product_id=ids[7], seller_id="s-1", name="Lamp 7", description="",
                                       price=Decimal("1"), currency="KRW", category="electronics", active=False,
                                       version=2, created_ms=1, attributes={}))
    result = search(query="lamp", limit=10)
    assert names(result) == ["Lamp 6", "Lamp 5", "Lamp 4"]  # the rest of the head; none skipped
    assert result.total == 7


def test_several_words_are_checked_over_the_head_of_the_rarest_and_say_when_the_count_is_partial(add, small_head):
    for n in range(6):
        add(f"Blue lamp {n}")
    for n in range(8):
        add(f"Lamp {n}")
    result = search(query="lamp blue", limit=2)
    assert names(result) == ["Blue lamp 5", "Blue lamp 4"]
    assert result.total == 4 and result.total_is_lower_bound
    assert search(query="blue lamp 3").total == 1


def test_browsing_a_category_by_price_puts_ties_newest_first_across_pages(add):
    for n, price in enumerate([300, 100, 200, 100, 100, 300]):
        add(f"Mug {n}", category="kitchen", price=str(price), in_stock=n != 4)
    add("Mug elsewhere", category="home", price="50")
    assert every_page(category="kitchen", sort="priceAsc", limit=2) == [
        ["Mug 4", "Mug 3"], ["Mug 1", "Mug 2"], ["Mug 5", "Mug 0"]]
    assert every_page(category="kitchen", sort="priceDesc", limit=4) == [
        ["Mug 5", "Mug 0", "Mug 2", "Mug 4"], ["Mug 3", "Mug 1"]]
    assert every_page(category="kitchen", sort="newest", limit=4) == [
        ["Mug 5", "Mug 4", "Mug 3", "Mug 2"], ["Mug 1", "Mug 0"]]
    in_stock = search(category="kitchen", sort="priceAsc", in_stock=True, limit=3)
    assert names(in_stock) == ["Mug 3", "Mug 1", "Mug 2"]
    assert in_stock.total == 5 and in_stock.facets == {"kitchen": 5}
    ranged = search(category="kitchen", sort="priceDesc", min_price=Decimal("150"), max_price=Decimal("250"))
    assert names(ranged) == ["Mug 2"] and ranged.total == 1


def test_an_empty_query_lists_everything_newest_first_with_counted_facets(add):
    add("Lamp", category="home")
    add("Mug", category="kitchen", in_stock=False)
    add("Pan", category="kitchen")
    everything = search()
    assert names(everything) == ["Pan", "Mug", "Lamp"]
    assert everything.total == 3 and everything.facets == {"kitchen": 2, "home": 1}
    stocked = search(in_stock=True)
    assert names(stocked) == ["Pan", "Lamp"]
    assert stocked.total == 2 and stocked.facets == {"home": 1, "kitchen": 1}


def test_counters_and_facets_follow_stock_category_and_deactivation(add):
    product = add("Lamp", category="home", in_stock=True)
    add("Lamp two", category="home", in_stock=False)
    index.set_in_stock(product, False, 2)
    assert search(category="home", in_stock=True).total == 0
    index.set_in_stock(product, True, 3)
    assert search(category="home", in_stock=True).total == 1
    moved = index.Document(product_id=product, seller_id="s-1", name="Lamp", description="", price=Decimal("1"),
                           currency="KRW", category="office", active=True, version=2, created_ms=1, attributes={})
    index.index_product(moved)
    assert search(query="lamp").facets == {"home": 1, "office": 1}
    assert search(category="office", in_stock=True).total == 1
    assert search(category="home").total == 1
    index.index_product(index.Document(**{**moved.__dict__, "active": False, "version": 3}))
    assert search(query="lamp").facets == {"home": 1}
    assert search(category="office").total == 0
    assert search(in_stock=True).total == 0


def test_a_category_word_or_its_prefix_finds_the_category(add):
    add("Kettle", category="appliances")
    add("Appliance stand", category="furniture")
    assert names(search(query="appli")) == ["Appliance stand", "Kettle"]


def test_a_batch_writes_many_products_like_one_at_a_time(search_index):
    docs = [index.Document(product_id=str(uuid.uuid4()), seller_id=f"s-{n % 3}", name=f"무선 이어폰 {n}",
                           description="Bluetooth 이어폰입니다", price=Decimal(1000 + n), currency="KRW",
                           category=("electronics", "mobile")[n % 2], active=n != 5, version=1,
                           created_ms=1_700_000_000_000 + n, attributes={}) for n in range(40)]
    args = []
    for n, doc in enumerate(docs):
        args += index.product_args(doc, (1, n % 4 != 0))
    assert index.index_products_args(search_index, "t1", args) == 40
    assert index.index_products_args(search_index, "t1", args) == 0  # the same versions again: no change
    result = search(query="이어폰", limit=3)
    assert names(result) == ["무선 이어폰 39", "무선 이어폰 38", "무선 이어폰 37"]
    assert result.total == 39 and result.facets == {"electronics": 20, "mobile": 19}
    assert search(query="bluetooth", in_stock=True).total == 29
    assert search(category="mobile", in_stock=True).total == 19
    assert search(seller_id="s-1", sort="priceAsc", limit=1).items[0]["name"] == "무선 이어폰 1"


def test_matches_beyond_the_head_are_found_by_intersecting_the_whole_sets(add, small_head):
    for n in range(2):
        add(f"Blue lamp {n}")
    for n in range(5):
        add(f"Blue cup {n}")
    for n in range(12):
        add(f"Lamp {n}")
    result = search(query="lamp blue")
    assert names(result) == ["Blue lamp 1", "Blue lamp 0"]
    assert result.total == 2 and not result.total_is_lower_bound
