import uuid
from datetime import datetime
from decimal import Decimal

import pytest

from commerce.catalog import rules
from commerce.catalog.models import Product, Stock, StockMovement
from commerce.catalog.store import product_store
from commerce.eventbus.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCT_KEYS = {"productId", "sellerId", "name", "description", "price", "currency", "category", "attributes",
                "available", "version", "createdAt", "updatedAt"}


def product_body(**overrides) -> dict:
    return {"name": "무선 이어폰", "description": "Noise cancelling earbuds.", "price": "12900.00",
            "category": "electronics", "attributes": {"color": "black", "sizes": ["S", "M"]}, "stock": 7,
            **overrides}


def product_changed_rows(product_id) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(name="catalog.product_changed", aggregate_id=str(product_id))
                .order_by("id"))


# --- create ---------------------------------------------------------------------------------------


def test_a_seller_creates_a_product_and_gets_it_back_whole(seller_client, seller):
    response = seller_client.post("/catalog/products", product_body(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == PRODUCT_KEYS
    assert body["sellerId"] == str(seller.id)
    assert body["name"] == "무선 이어폰"
    assert body["description"] == "Noise cancelling earbuds."
    assert body["price"] == "12900.00"
    assert body["currency"] == "KRW"
    assert body["category"] == "electronics"
    assert body["attributes"] == {"color": "black", "sizes": ["S", "M"]}
    assert body["available"] == 7
    assert body["version"] == 1
    for moment in (body["createdAt"], body["updatedAt"]):
        assert moment.endswith("Z")
        assert datetime.fromisoformat(moment).tzinfo is not None
    product = Product.objects.get(id=body["productId"])
    assert product.seller_id == seller.id and product.version == 1
    assert Stock.objects.get(product_id=product.id).on_hand == 7


def test_creating_a_product_publishes_product_changed_with_the_document(seller_client):
    response = seller_client.post("/catalog/products", product_body(), format="json")

    [row] = product_changed_rows(response.json()["productId"])
    assert row.aggregate_version == 1
    assert row.payload["product_name"] == "무선 이어폰"
    assert row.payload["category"] == "electronics"
    assert row.payload["aggregate_version"] == 1


def test_initial_stock_is_written_to_the_ledger(seller_client, seller):
    response = seller_client.post("/catalog/products", product_body(stock=3), format="json")

    [movement] = StockMovement.objects.filter(product_id=response.json()["productId"])
    assert movement.on_hand_delta == 3
    assert movement.actor_id == seller.id


def test_optional_fields_take_their_defaults(seller_client):
    body = product_body()
    del body["attributes"], body["stock"]

    response = seller_client.post("/catalog/products", {**body, "description": ""}, format="json")

    assert response.status_code == 201
    created = response.json()
    assert (created["currency"], created["attributes"], created["available"], created["description"]) == (
        "KRW", {}, 0, "")


def test_a_price_may_be_a_json_number_and_comes_back_as_a_decimal_string(seller_client):
    response = seller_client.post("/catalog/products", product_body(price=12900.5, currency="USD"), format="json")

    assert response.status_code == 201
    assert response.json()["price"] == "12900.50"
    assert response.json()["currency"] == "USD"


def test_the_name_is_stripped(seller_client):
    response = seller_client.post("/catalog/products", product_body(name="  Earbuds  "), format="json")

    assert response.json()["name"] == "Earbuds"


def test_a_buyer_may_not_create_products(member_client):
    response = member_client.post("/catalog/products", product_body(), format="json")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not Product.objects.exists()


def test_creating_a_product_without_a_token_is_401(api_client):
    response = api_client.post("/catalog/products", product_body(), format="json")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("field", "value"), [
    ("price", "-1.00"),
    ("price", "0"),
    ("price", "abc"),
    ("price", "12.345"),
    ("price", "NaN"),
    ("price", "Infinity"),
    ("price", "-Infinity"),
    ("price", "1e400"),
    ("price", str(rules.PRICE_MAX + 1)),
    ("price", True),
    ("price", None),
    ("name", ""),
    ("name", "   "),
    ("name", "x" * (rules.NAME_MAX + 1)),
    ("name", "x" * 100_000),
    ("name", None),
    ("description", "x" * (rules.DESCRIPTION_MAX + 1)),
    ("description", None),
    ("currency", "XYZ"),
    ("category", "weapons"),
    ("category", ""),
    ("attributes", ["color", "black"]),
    ("attributes", "color=black"),
    ("attributes", 42),
    ("attributes", {f"key{i}": i for i in range(rules.ATTRIBUTES_MAX_KEYS + 1)}),
    ("attributes", {"k" * (rules.ATTRIBUTE_KEY_MAX + 1): "v"}),
    ("attributes", {"": "v"}),
    ("attributes", {"blob": "x" * rules.ATTRIBUTES_MAX_BYTES}),
    ("attributes", {"nested": {"deep": 1}}),
    ("attributes", {"rows": [[1, 2]]}),
    ("attributes", {"note": "nul \x00 inside"}),
    ("stock", -1),
    ("stock", rules.STOCK_MAX + 1),
    ("stock", "5"),
    ("stock", 1.5),
    ("stock", True),
])
def test_invalid_product_fields_are_400_with_the_field_named(seller_client, field, value):
    response = seller_client.post("/catalog/products", product_body(**{field: value}), format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()
    assert not Product.objects.exists()


@pytest.mark.parametrize("field", ["name", "description", "price", "category"])
def test_a_missing_required_field_is_400(seller_client, field):
    body = product_body()
    del body[field]

    response = seller_client.post("/catalog/products", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_unknown_category_lists_the_allowed_ones(seller_client):
    response = seller_client.post("/catalog/products", product_body(category="weapons"), format="json")

    [message] = response.json()["errors"]["category"]
    assert "weapons" in message
    assert all(category in message for category in rules.CATEGORIES)


@pytest.mark.parametrize("raw", [
    b'{"name": "\\ud800", "description": "", "price": "1.00", "category": "books"}',
    b'{"name": "ok", "description": "", "price": "1.00", "category": "books", "attributes": {"\\ud800": 1}}',
    b'{"name": "ok", "description": "", "price": "1.00", "category": "books", "attributes": {"a": ["\\udfff"]}}',
    b'{"name": "ok", "description": "", "price": NaN, "category": "books"}',
    b'[1, 2, 3]',
    b'{"name": ',
])
def test_malformed_or_unstorable_bodies_are_400_not_500(seller_client, raw):
    response = seller_client.generic("POST", "/catalog/products", raw, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_attributes_at_the_limits_are_accepted(seller_client):
    attributes = {f"{i:0{rules.ATTRIBUTE_KEY_MAX}d}": i for i in range(rules.ATTRIBUTES_MAX_KEYS)}
    attributes[next(iter(attributes))] = [None, True, 1.5, "s"]

    response = seller_client.post("/catalog/products", product_body(attributes=attributes), format="json")

    assert response.status_code == 201
    assert response.json()["attributes"] == attributes


# --- read -----------------------------------------------------------------------------------------


def test_anyone_reads_a_product_without_a_token(api_client, seller_client):
    created = seller_client.post("/catalog/products", product_body(), format="json").json()

    response = api_client.get(f"/catalog/products/{created['productId']}")

    assert response.status_code == 200
    assert response.json() == created


def test_reading_shows_available_stock_net_of_reservations(api_client, seller, make_product):
    doc = make_product(seller, stock=10)
    Stock.objects.filter(product_id=doc.product_id).update(reserved=4)

    response = api_client.get(f"/catalog/products/{doc.product_id}")

    assert response.json()["available"] == 6


def test_an_unknown_product_is_404(api_client):
    response = api_client.get(f"/catalog/products/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_product_id_that_is_not_a_uuid_is_404(api_client):
    response = api_client.get("/catalog/products/not-a-uuid")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --- update ---------------------------------------------------------------------------------------


def test_the_owner_replaces_a_product(seller_client, seller, make_product):
    doc = make_product(seller, attributes={"color": "black"}, stock=5)

    response = seller_client.put(f"/catalog/products/{doc.product_id}", {
        "name": "Earbuds Pro", "description": "Better.", "price": "15000", "currency": "USD", "category": "mobile",
    }, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PRODUCT_KEYS
    assert body["version"] == 2
    assert (body["name"], body["description"], body["price"], body["currency"], body["category"]) == (
        "Earbuds Pro", "Better.", "15000.00", "USD", "mobile")
    assert body["attributes"] == {}  # full replacement: omitted attributes are empty
    assert body["available"] == 5
    assert body["createdAt"] == doc.created_at.isoformat().replace("+00:00", "Z")
    assert datetime.fromisoformat(body["updatedAt"]) > doc.updated_at
    assert Product.objects.get(id=doc.product_id).version == 2
    assert product_store().get(doc.product_id).name == "Earbuds Pro"


def test_an_update_publishes_product_changed_with_the_new_version(seller_client, seller, make_product):
    doc = make_product(seller)

    seller_client.put(f"/catalog/products/{doc.product_id}", product_body(name="Renamed"), format="json")

    first, second = product_changed_rows(doc.product_id)
    assert (first.aggregate_version, second.aggregate_version) == (1, 2)
    assert second.payload["product_name"] == "Renamed"
    assert second.payload["aggregate_version"] == 2


def test_stock_in_an_update_body_is_ignored(seller_client, seller, make_product):
    doc = make_product(seller, stock=5)

    response = seller_client.put(f"/catalog/products/{doc.product_id}", product_body(stock=999), format="json")

    assert response.json()["available"] == 5
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 5


def test_a_deactivated_product_is_no_longer_readable(seller_client, api_client, seller, make_product):
    doc = make_product(seller)

    response = seller_client.put(f"/catalog/products/{doc.product_id}", product_body(active=False), format="json")

    assert response.status_code == 200
    assert api_client.get(f"/catalog/products/{doc.product_id}").status_code == 404
    assert product_changed_rows(doc.product_id)[-1].payload["active"] is False


def test_another_seller_may_not_update_a_product(client_for, make_member, seller, make_product):
    doc = make_product(seller, name="Original")
    other = client_for(make_member(role="seller"))

    response = other.put(f"/catalog/products/{doc.product_id}", product_body(name="Hijacked"), format="json")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert product_store().get(doc.product_id).name == "Original"
    assert Product.objects.get(id=doc.product_id).version == 1
    assert len(product_changed_rows(doc.product_id)) == 1


def test_a_buyer_may_not_update_a_product(member_client, seller, make_product):
    doc = make_product(seller)

    response = member_client.put(f"/catalog/products/{doc.product_id}", product_body(), format="json")

    assert response.status_code == 403


def test_updating_without_a_token_is_401(api_client, seller, make_product):
    doc = make_product(seller)

    response = api_client.put(f"/catalog/products/{doc.product_id}", product_body(), format="json")

    assert response.status_code == 401


def test_updating_an_unknown_or_malformed_product_id_is_404(seller_client):
    unknown = seller_client.put(f"/catalog/products/{uuid.uuid4()}", product_body(), format="json")
    malformed = seller_client.put("/catalog/products/12345", product_body(), format="json")

    assert unknown.status_code == malformed.status_code == 404


def test_an_invalid_update_is_400_and_changes_nothing(seller_client, seller, make_product):
    doc = make_product(seller)

    response = seller_client.put(f"/catalog/products/{doc.product_id}", product_body(price="-5"), format="json")

    assert response.status_code == 400
    assert "price" in response.json()["errors"]
    assert product_store().get(doc.product_id).price == Decimal("12900.00")


# --- schema ---------------------------------------------------------------------------------------


def test_the_openapi_schema_describes_the_catalog_endpoints(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    paths = schema["paths"]
    create = paths["/catalog/products"]["post"]
    assert "requestBody" in create and "201" in create["responses"]
    assert "application/problem+json" in create["responses"]["400"]["content"]
    assert {"get", "put"} <= set(paths["/catalog/products/{productId}"])
    change = paths["/catalog/change-inventory-count"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in change["parameters"]]
    assert set(schema["components"]["schemas"]["Product"]["properties"]) == PRODUCT_KEYS
