"""Search on real Redis: matching, ranking, filters, sorts, cursors, facets, versions, removal."""
import uuid
from decimal import Decimal

import pytest

from commerce.search import index
from commerce.search.query import search
from commerce.shared.errors import ValidationFailed


def names(result):
    return [item["name"] for item in result.items]


def test_latin_words_and_prefixes_match_case_insensitively(add):
    add("Bluetooth Speaker")
    add("Desk Lamp")
    assert names(search(query="blue")) == ["Bluetooth Speaker"]
    assert names(search(query="SPEAKER")) == ["Bluetooth Speaker"]
    assert names(search(query="ＢＬＵＥ")) == ["Bluetooth Speaker"]  # full-width


def test_korean_words_match_by_syllable_bigrams(add):
    add("무선 이어폰")
    add("무선이어폰 케이스")
    add("유선 헤드폰")
    assert sorted(names(search(query="무선 이어"))) == ["무선 이어폰", "무선이어폰 케이스"]
    assert sorted(names(search(query="이어폰"))) == ["무선 이어폰", "무선이어폰 케이스"]
    assert names(search(query="헤드")) == ["유선 헤드폰"]


def test_every_word_must_match(add):
    add("Bluetooth Speaker", description="red")
    add("Red Lamp")
    assert names(search(query="speaker red")) == ["Bluetooth Speaker"]
    assert names(search(query="speaker lamp")) == []
    assert search(query="nothing-like-this").total == 0


def test_name_ranks_above_category_above_description_and_earlier_words_first(add):
    add("Cable", category="audio", description="fits any speaker")
    add("Stand for a speaker")
    add("Speaker Stand")
    assert names(search(query="speaker")) == ["Speaker Stand", "Stand for a speaker", "Cable"]


def test_ties_go_to_the_newest(add):
    add("Lamp one")
    add("Lamp two")
    assert names(search(query="lamp")) == ["Lamp two", "Lamp one"]


def test_filters_category_seller_price_and_stock(add):
    add("Lamp A", category="home", price="100", seller="s-1")
    add("Lamp B", category="home", price="300", seller="s-2", in_stock=False)
    add("Lamp C", category="office", price="200", seller="s-1")
    assert sorted(names(search(query="lamp", category="home"))) == ["Lamp A", "Lamp B"]
    assert sorted(names(search(query="lamp", seller_id="s-1"))) == ["Lamp A", "Lamp C"]
    assert names(search(query="lamp", min_price=Decimal("150"), max_price=Decimal("250"))) == ["Lamp C"]
    assert sorted(names(search(query="lamp", in_stock=True))) == ["Lamp A", "Lamp C"]
    # an empty query with filters lists by the chosen order
    assert names(search(category="home", sort="priceAsc")) == ["Lamp A", "Lamp B"]
    assert names(search(seller_id="s-2")) == ["Lamp B"]


def test_sorts(add):
    add("Mug cheap", price="5")
    add("Mug dear", price="50")
    add("Mug mid", price="20")
    assert names(search(query="mug", sort="priceAsc")) == ["Mug cheap", "Mug mid", "Mug dear"]
    assert names(search(query="mug", sort="priceDesc")) == ["Mug dear", "Mug mid", "Mug cheap"]
    assert names(search(query="mug", sort="newest")) == ["Mug mid", "Mug dear", "Mug cheap"]


def test_facets_count_categories_of_all_matches(add):
    add("Lamp A", category="home")
    add("Lamp B", category="home")
    add("Lamp C", category="office")
    result = search(query="lamp", limit=1)
    assert result.total == 3
    assert result.facets == {"home": 2, "office": 1}


def test_cursor_pages_neither_skip_nor_repeat_while_products_change(add, search_index):
    ids = [add(f"Chair {n}", price=str(100 + n)) for n in range(5)]
    first = search(query="chair", sort="priceAsc", limit=2)
    assert names(first) == ["Chair 0", "Chair 1"]
    add("Chair cheapest", price="1")  # sorts before the cursor: not seen on later pages
    index.index_product(index.Document(product_id=ids[2], seller_id="s-1", name="Chair 2", description="",
                                       price=Decimal("102"), currency="KRW", category="electronics",
                                       active=False, version=2, created_ms=1, attributes={}))
    second = search(query="chair", sort="priceAsc", limit=2, cursor=first.next_cursor)
    assert names(second) == ["Chair 3", "Chair 4"]
    assert second.next_cursor is None


def test_a_cursor_for_another_sort_or_a_forged_one_is_refused(add):
    add("Chair 1")
    add("Chair 2")
    page = search(query="chair", sort="priceAsc", limit=1)
    with pytest.raises(ValidationFailed):
        search(query="chair", sort="newest", cursor=page.next_cursor)
    with pytest.raises(ValidationFailed):
        search(query="chair", cursor="garbage")


def test_an_older_event_after_a_newer_one_is_ignored(add):
    product = add("Lamp new name", version=2)
    add("Lamp old name", version=1, product_id=product)
    assert names(search(query="lamp")) == ["Lamp new name"]
    index.set_in_stock(product, False, 3)
    index.set_in_stock(product, True, 2)  # older stock event
    assert search(query="lamp", in_stock=True).total == 0


def test_a_deactivated_product_disappears_and_stays_gone(add):
    product = add("Lamp", version=1)
    deactivated = index.Document(product_id=product, seller_id="s-1", name="Lamp", description="",
                                 price=Decimal("1"), currency="KRW", category="electronics", active=False,
                                 version=2, created_ms=1, attributes={})
    index.index_product(deactivated)
    assert search(query="lamp").total == 0
    add("Lamp", version=1, product_id=product)  # a late, older event
    assert search(query="lamp").total == 0
    assert search().total == 0


def test_stock_news_before_the_product_itself_is_kept(search_index):
    product = str(uuid.uuid4())
    index.set_in_stock(product, True, 1)
    index.index_product(index.Document(product_id=product, seller_id="s", name="Early bird", description="",
                                       price=Decimal("1"), currency="KRW", category="home", active=True,
                                       version=1, created_ms=1, attributes={}))
    assert names(search(query="early", in_stock=True)) == ["Early bird"]
