"""POST /order/process-order through the WSGI application the web server runs (config/wsgi.py):
plain orders from a buyer with a cached token take the fast path and answer exactly what the full
stack answers; everything else is answered by the full stack."""
from __future__ import annotations

import json
import uuid

import pytest

from commerce.members import tokens
from commerce.orders.models import Order
from commerce.shared.http.fastpath import FastPaths
from config.wsgi import fast_paths
from tests.orders.conftest import published
from tests.support import wsgi
from tests.support.wsgi import call

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connections_stay_open")]


URL = "/order/process-order"


def environ(body, token, **headers) -> dict:
    return wsgi.environ(URL, json.dumps(body).encode(), Authorization=f"Bearer {token}", **headers)


@pytest.fixture
def full():
    return wsgi.Counting()


@pytest.fixture
def app(full):
    return FastPaths(full, fast_paths.routes)


@pytest.fixture
def buyer(make_member):
    return make_member(name="Buyer")


@pytest.fixture
def token(client_for, buyer):
    return client_for(buyer).token


@pytest.fixture
def body(buyer, buyer_setup, product):
    method_id, address_id = buyer_setup(buyer)
    return {"items": [{"productId": str(product(price="12900.00", name="Earbuds")), "quantity": 2},
                      {"productId": str(product(price="500.50", name="Case ☂")), "quantity": 1}],
            "paymentMethodId": method_id, "addressId": address_id}


def without_ids(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("orderId", "createdAt", "updatedAt")}


def test_the_wsgi_application_has_the_order_fast_path():
    assert ("POST", URL) in fast_paths.routes


def test_a_plain_order_takes_the_fast_path_once_the_token_is_cached_and_answers_like_the_full_stack(
        app, full, token, body):
    # the token's first use goes the full way (a database lookup) and puts it in the token cache
    status, slow_headers, slow_body = call(app, environ(body, token))
    assert (status, full.calls) == (202, 1)

    status, fast_headers, fast_body = call(app, environ(body, token))

    assert (status, full.calls) == (202, 1)
    slow, fast = json.loads(slow_body), json.loads(fast_body)
    assert without_ids(fast) == without_ids(slow)
    assert fast["orderId"] != slow["orderId"]
    slow_headers.pop("Content-Length"), fast_headers.pop("Content-Length")
    assert fast_headers == slow_headers
    order = Order.objects.get(id=fast["orderId"])
    assert (order.status, str(order.total), order.items[1]["name"]) == ("PENDING", "26300.50", "Case ☂")
    assert len(published("orders.order_placed", fast["orderId"])) == 1


@pytest.mark.parametrize("change, field", [
    (lambda b: b["items"][0].update(quantity=0), "items.0.quantity"),
    (lambda b: b.update(addressId=str(uuid.uuid4())), "addressId"),
    (lambda b: b["items"][0].update(productId=str(uuid.uuid4())), "items.0.productId"),
])
def test_an_order_the_fast_path_refuses_is_answered_by_the_full_stack(app, full, token, body, change, field):
    call(app, environ(body, token))  # caches the token
    change(body)

    status, headers, raw = call(app, environ(body, token))

    assert (status, full.calls) == (400, 2)
    assert headers["Content-Type"].startswith("application/problem+json")
    assert field in json.loads(raw)["errors"]
    assert Order.objects.count() == 1


def test_a_body_the_serializer_must_judge_goes_the_full_way(app, full, token, body):
    call(app, environ(body, token))  # caches the token
    body["note"] = "unknown fields are ignored by the serializer"

    status, _, _ = call(app, environ(body, token))

    assert (status, full.calls) == (202, 2)
    assert Order.objects.count() == 2


def test_an_unknown_token_is_a_401_from_the_full_stack(app, full, body):
    status, headers, _ = call(app, environ(body, "0" * 64))

    assert (status, full.calls) == (401, 1)
    assert headers["WWW-Authenticate"].startswith("Bearer")


def test_an_idempotency_key_on_the_fast_path_answers_the_same_order_again_and_409_for_another_body(
        app, full, token, body):
    call(app, environ(body, token))  # caches the token
    first = json.loads(call(app, environ(body, token, Idempotency_Key="k-1"))[2])
    status, _, again = call(app, environ(body, token, Idempotency_Key="k-1"))
    assert (status, json.loads(again)["orderId"], full.calls) == (202, first["orderId"], 1)

    body["items"][0]["quantity"] = 3
    status, _, _ = call(app, environ(body, token, Idempotency_Key="k-1"))
    assert (status, full.calls) == (409, 2)

    status, _, raw = call(app, environ(body, token, Idempotency_Key=""))
    assert (status, full.calls) == (400, 3)
    assert "Idempotency-Key" in json.loads(raw)["errors"]
    assert Order.objects.count() == 2


def test_a_deactivated_buyer_is_refused_by_the_full_stack(app, full, client_for, make_member, buyer_setup, product):
    buyer = make_member(name="Leaving")
    client = client_for(buyer)
    method_id, address_id = buyer_setup(buyer)
    body = {"items": [{"productId": str(product()), "quantity": 1}], "paymentMethodId": method_id,
            "addressId": address_id}
    assert call(app, environ(body, client.token))[0] == 202  # caches the token
    buyer.is_active = False
    buyer.save()
    tokens.forget([client.token_row.digest])  # as the members context does when a member changes

    status, _, _ = call(app, environ(body, client.token))

    assert (status, full.calls) == (401, 2)
    assert Order.objects.filter(buyer_id=buyer.id).count() == 1
