"""POST /catalog/search over HTTP: shape, bounds, outages; and the index fed through the bus."""
import pytest

from commerce.catalog import services
from commerce.eventbus.delivery import deliver
from commerce.eventbus.relay import relay_all
from commerce.search import index

pytestmark = pytest.mark.django_db


def post(api_client, body):
    return api_client.post("/catalog/search", body, format="json")


def test_search_answers_items_total_cursor_and_facets(api_client, add):
    add("Bluetooth Speaker", category="electronics", price="12900")
    add("Bluetooth Mouse", category="computers", price="9900")
    response = post(api_client, {"query": "bluetooth", "sort": "priceAsc", "limit": 1})
    assert response.status_code == 200
    body = response.json()
    assert [item["name"] for item in body["items"]] == ["Bluetooth Mouse"]
    assert body["items"][0]["price"] == "9900.00"
    assert body["total"] == 2 and body["nextCursor"]
    assert body["facets"] == {"category": {"electronics": 1, "computers": 1}}
    second = post(api_client, {"query": "bluetooth", "sort": "priceAsc", "limit": 1, "cursor": body["nextCursor"]})
    assert [item["name"] for item in second.json()["items"]] == ["Bluetooth Speaker"]
    assert second.json()["nextCursor"] is None


@pytest.mark.parametrize("body, field", [
    ({"query": "a b c d e f g h i"}, "query"),
    ({"query": "x" * 31}, "query"),
    ({"limit": 101}, "limit"),
    ({"limit": 0}, "limit"),
    ({"sort": "cheapest"}, "sort"),
    ({"filters": {"minPrice": "-1"}}, "filters.minPrice"),
    ({"filters": {"minPrice": "10", "maxPrice": "5"}}, "filters.maxPrice"),
    ({"cursor": "forged"}, "cursor"),
])
def test_out_of_bounds_searches_are_400_with_the_field(api_client, search_index, body, field):
    response = post(api_client, body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_search_is_503_when_redis_does_not_answer(api_client, settings):
    settings.SEARCH_REDIS_URL = "redis://127.0.0.1:1/0"
    response = post(api_client, {"query": "lamp"})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/problem+json")


def test_search_is_503_while_the_index_is_missing(api_client, search_index):
    search_index.delete(index.GENERATION_KEY)  # Redis lost the index
    response = post(api_client, {"query": "lamp"})
    assert response.status_code == 503


@pytest.mark.django_db(transaction=True)
def test_a_product_created_in_the_catalog_is_found_after_the_relay(search_index, seller):
    product = services.product_create(seller_id=seller.id, name="무선 이어폰 프로", description="노이즈 캔슬링",
                                      price="129000", currency="KRW", category="electronics", attributes={}, stock=0)
    sends = []
    relay_all(sender=sends.extend)
    for send in sends:
        deliver(send.dispatch_id, send.handler, send.partition)
    from commerce.search.query import search

    result = search(query="이어폰")
    assert [item["productId"] for item in result.items] == [str(product.product_id)]
    assert search(query="이어폰", in_stock=True).total == 0  # created with no stock


def test_the_lean_path_answers_exactly_like_the_serializer_path(api_client, add, monkeypatch):
    from commerce.search.http import views

    lean_answers = []
    real = views.lean_search
    monkeypatch.setattr(views, "lean_search", lambda request: lean_answers.append(real(request)) or lean_answers[-1])
    for n in range(3):
        add(f"Bluetooth Speaker {n}", category="electronics", price=str(12900 + n))
    add("Bluetooth Mouse", category="computers", price="9900", in_stock=False)
    body = {"query": "bluetooth", "sort": "priceAsc", "limit": 2, "filters": {"minPrice": "100"}}
    lean = post(api_client, body)
    # a limit sent as a string is valid for the serializer but not for the lean path
    drf = post(api_client, {**body, "limit": "2"})
    assert lean.status_code == drf.status_code == 200
    assert [answer is not None for answer in lean_answers] == [True, False]  # the lean path, then the serializer
    assert lean.json() == drf.json()
    second_lean = post(api_client, {**body, "cursor": lean.json()["nextCursor"]})
    second_drf = post(api_client, {**body, "limit": "2", "cursor": drf.json()["nextCursor"]})
    assert second_lean.json() == second_drf.json()
    assert [item["name"] for item in second_lean.json()["items"]] == ["Bluetooth Speaker 1", "Bluetooth Speaker 2"]


def test_unusual_bodies_get_the_serializers_answers(api_client, search_index):
    assert post(api_client, {"query": None}).status_code == 400
    assert post(api_client, {"filters": {"inStock": "yes please"}}).status_code == 400
    assert post(api_client, {"filters": {"minPrice": "1.234"}}).status_code == 400
    assert post(api_client, {"filters": {"category": ""}}).status_code == 400
    assert post(api_client, {"query": "lamp", "filters": {"inStock": "true"}}).status_code == 200
    response = api_client.post("/catalog/search", "query=lamp", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert api_client.get("/catalog/search").status_code == 405
