"""POST /order/process-order, GET /order/orders[/{id}], POST .../cancel over the API."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from commerce.orders.models import Order
from tests.orders.conftest import change_product, published

pytestmark = pytest.mark.django_db

URL = "/order/process-order"


@pytest.fixture
def buyer(make_member):
    return make_member(name="Buyer")


@pytest.fixture
def buyer_client(client_for, buyer):
    return client_for(buyer)


@pytest.fixture
def body(buyer, buyer_setup, product):
    method_id, address_id = buyer_setup(buyer)
    a, b = product(price="12900.00", name="Earbuds"), product(price="500.50", name="Case")
    return {"items": [{"productId": str(a), "quantity": 2}, {"productId": str(b), "quantity": 1}],
            "paymentMethodId": method_id, "addressId": address_id}


def test_placing_an_order_stores_it_pending_with_snapshots_and_publishes_order_placed(buyer_client, buyer, body):
    response = buyer_client.post(URL, body, format="json")
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "PENDING"
    assert data["total"] == "26300.50" and data["currency"] == "KRW"
    assert [(i["name"], i["unitPrice"], i["quantity"]) for i in data["items"]] == [
        ("Earbuds", "12900.00", 2), ("Case", "500.50", 1)]
    assert data["paymentStatus"] is None and data["deliveryStatus"] is None and data["failureReason"] is None
    order = Order.objects.get(id=data["orderId"])
    assert order.buyer_id == buyer.id and order.address["city"] == "Seoul"
    [event] = published("orders.order_placed", data["orderId"])
    assert event.payload["buyer_id"] == str(buyer.id)
    assert sorted((line["product_id"], line["quantity"]) for line in event.payload["lines"]) == sorted(
        (i["productId"], i["quantity"]) for i in body["items"])


def test_a_price_change_after_placing_does_not_change_the_order(buyer_client, body):
    order_id = buyer_client.post(URL, body, format="json").json()["orderId"]
    change_product(uuid.UUID(body["items"][0]["productId"]), price=Decimal("99999.00"), name="Renamed")
    again = buyer_client.get(f"/order/orders/{order_id}").json()
    assert again["items"][0]["unitPrice"] == "12900.00" and again["items"][0]["name"] == "Earbuds"
    assert again["total"] == "26300.50"


@pytest.mark.parametrize("change, field", [
    (lambda b: b["items"].append({"productId": str(uuid.uuid4()), "quantity": 1}), "items.2.productId"),
    (lambda b: b["items"][0].update(quantity=0), "items.0.quantity"),
    (lambda b: b["items"][0].update(quantity=101), "items.0.quantity"),
    (lambda b: b.update(items=[]), "items"),
    (lambda b: b["items"].append(dict(b["items"][0])), "items"),
    (lambda b: b.update(paymentMethodId=str(uuid.uuid4())), "paymentMethodId"),
    (lambda b: b.update(addressId="not-an-id"), "addressId"),
    (lambda b: b.pop("addressId"), "addressId"),
    (lambda b: b["items"][0].update(productId="nope"), "items.0.productId"),
])
def test_an_invalid_order_is_a_400_and_nothing_is_stored(buyer_client, body, change, field):
    change(body)
    response = buyer_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"], response.json()
    assert not Order.objects.exists() and not published("orders.order_placed")


def test_someone_elses_payment_method_and_address_are_refused(make_member, client_for, buyer_setup, body):
    other = make_member()
    response = client_for(other).post(URL, body, format="json")
    assert response.status_code == 400
    assert {"paymentMethodId", "addressId"} <= set(response.json()["errors"])
    assert not Order.objects.exists()


def test_an_inactive_product_cannot_be_ordered(buyer_client, body):
    change_product(uuid.UUID(body["items"][1]["productId"]), active=False)
    response = buyer_client.post(URL, body, format="json")
    assert response.status_code == 400 and "items.1.productId" in response.json()["errors"]


def test_the_same_idempotency_key_and_body_answers_the_same_order(buyer_client, body):
    first = buyer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = buyer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 202
    assert first.json()["orderId"] == second.json()["orderId"]
    assert Order.objects.count() == 1 and len(published("orders.order_placed")) == 1


def test_the_same_idempotency_key_with_another_body_is_a_409(buyer_client, body):
    assert buyer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 202
    body["items"][0]["quantity"] = 3
    response = buyer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert Order.objects.count() == 1


def test_idempotency_keys_are_scoped_to_the_member(make_member, client_for, buyer_setup, product):
    a, b = make_member(), make_member()
    pid = product()
    ids = []
    for member in (a, b):
        method_id, address_id = buyer_setup(member)
        body = {"items": [{"productId": str(pid), "quantity": 1}], "paymentMethodId": method_id,
                "addressId": address_id}
        response = client_for(member).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
        assert response.status_code == 202
        ids.append(response.json()["orderId"])
    assert ids[0] != ids[1]


def test_orders_are_listed_newest_first_with_cursor_pages_and_only_ones_own(
        buyer_client, body, make_member, client_for):
    ids = [buyer_client.post(URL, body, format="json").json()["orderId"] for _ in range(5)]
    page1 = buyer_client.get("/order/orders?limit=3").json()
    assert [o["orderId"] for o in page1["items"]] == ids[::-1][:3]
    page2 = buyer_client.get(f"/order/orders?limit=3&cursor={page1['nextCursor']}").json()
    assert [o["orderId"] for o in page2["items"]] == ids[::-1][3:] and page2["nextCursor"] is None
    other = client_for(make_member())
    assert other.get("/order/orders").json() == {"items": [], "nextCursor": None}
    for order_id in ids:
        response = other.get(f"/order/orders/{order_id}")
        assert response.status_code == 404
        assert other.post(f"/order/orders/{order_id}/cancel").status_code == 404


def test_orders_need_a_token(api_client, body):
    assert api_client.post(URL, body, format="json").status_code == 401
    assert api_client.get("/order/orders").status_code == 401


def test_a_pending_order_can_be_cancelled_once_and_the_stock_is_told(buyer_client, body):
    order_id = buyer_client.post(URL, body, format="json").json()["orderId"]
    response = buyer_client.post(f"/order/orders/{order_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert buyer_client.post(f"/order/orders/{order_id}/cancel").json()["status"] == "CANCELLED"
    assert len(published("orders.order_cancelled", order_id)) == 1
    assert not published("orders.refund_requested")


@pytest.mark.parametrize("status, delivery, expected", [
    ("CONFIRMED", "SHIPPED", 409), ("CONFIRMED", "REQUESTED", 200), ("COMPLETED", "DELIVERED", 409),
    ("FAILED", "", 409)])
def test_only_orders_not_yet_shipped_can_be_cancelled(buyer_client, body, status, delivery, expected):
    order_id = buyer_client.post(URL, body, format="json").json()["orderId"]
    Order.objects.filter(id=order_id).update(status=status, delivery_status=delivery, payment_status="APPROVED",
                                             payment_id="pay-1")
    response = buyer_client.post(f"/order/orders/{order_id}/cancel")
    assert response.status_code == expected, response.content
    refunds = published("orders.refund_requested", order_id)
    if expected == 200:
        assert [r.payload["payment_id"] for r in refunds] == ["pay-1"]
    else:
        assert response["Content-Type"].startswith("application/problem+json") and not refunds


def test_an_inactive_or_expired_payment_method_is_refused(buyer_client, body):
    from commerce.payments.models import PaymentMethod

    PaymentMethod.objects.filter(id=body["paymentMethodId"]).update(active=False)
    response = buyer_client.post(URL, body, format="json")
    assert response.status_code == 400 and "paymentMethodId" in response.json()["errors"]
    PaymentMethod.objects.filter(id=body["paymentMethodId"]).update(active=True, exp_year=2020)
    response = buyer_client.post(URL, body, format="json")
    assert response.status_code == 400 and "paymentMethodId" in response.json()["errors"]
    assert not Order.objects.exists()


def test_the_plain_sql_insert_writes_every_column_of_the_order():
    from commerce.orders import services

    assert set(services._INSERT_COLUMNS) == {f.attname for f in Order._meta.concrete_fields}


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_make_one_order(make_member, client_for, buyer_setup, product):
    import threading

    from django.db import connection

    member = make_member()
    method_id, address_id = buyer_setup(member)
    body = {"items": [{"productId": str(product()), "quantity": 1}], "paymentMethodId": method_id,
            "addressId": address_id}
    token = client_for(member).token
    barrier, answers = threading.Barrier(8), []

    def place():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        barrier.wait()
        response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="race")
        answers.append((response.status_code, response.json()["orderId"]))
        connection.close()

    threads = [threading.Thread(target=place) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 8 and {status for status, _ in answers} == {202}
    assert len({order_id for _, order_id in answers}) == 1
    assert Order.objects.count() == 1 and len(published("orders.order_placed")) == 1


_PID = "0b7e6a8e-5f0e-4a55-9a43-2f1f7f0c3a11"
_OTHER = "5d1c1f3e-8a4b-4a43-8f2e-6f9b2a7c0d22"


_BODIES = [
    # plainly valid: the lean path takes these
    {"items": [{"productId": _PID, "quantity": 2}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}, {"productId": _OTHER, "quantity": 100}],
     "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID.upper(), "quantity": 1}], "paymentMethodId": "m" * 64, "addressId": "a1"},
    # anything unusual is left to the serializer, which accepts or refuses it with its own messages
    {"items": [{"productId": _PID, "quantity": "2"}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": True}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 2.0}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID.replace("-", ""), "quantity": 1}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}], "paymentMethodId": " m1 ", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}], "paymentMethodId": "m" * 65, "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}], "paymentMethodId": "", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}], "paymentMethodId": "m\x001", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}], "paymentMethodId": 7, "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1, "note": "x"}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}], "paymentMethodId": "m1", "addressId": "a1", "extra": 1},
    {"items": [{"productId": _PID, "quantity": 1}, {"productId": _PID, "quantity": 1}],
     "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 0}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 101}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": "x" * 36, "quantity": 1}], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [{"productId": _PID, "quantity": 1}] * 51, "paymentMethodId": "m1", "addressId": "a1"},
    {"items": [], "paymentMethodId": "m1", "addressId": "a1"},
    {"items": {"productId": _PID}, "paymentMethodId": "m1", "addressId": "a1"},
    [1, 2],
]
_PLAINLY_VALID = 3


@pytest.mark.parametrize("index", range(len(_BODIES)))
def test_the_lean_body_check_accepts_only_what_the_serializer_accepts_unchanged(index):
    data = _BODIES[index]
    from commerce.orders.http.serializers import OrderPlaceSerializer
    from commerce.orders.http.views import plain_order

    lean = plain_order(data)
    serializer = OrderPlaceSerializer(data=data)
    if lean is not None:
        assert serializer.is_valid(), serializer.errors
        expected = serializer.validated_data
        assert lean == {"items": [dict(i) for i in expected["items"]], "paymentMethodId": expected["paymentMethodId"],
                        "addressId": expected["addressId"]}
    assert (lean is not None) == (index < _PLAINLY_VALID)

