import uuid

import pytest

from commerce.catalog import rules
from commerce.catalog.models import Stock, StockMovement
from commerce.eventbus.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/catalog/change-inventory-count"


def change(client, product_id, delta, reason="restock", key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, {"productId": str(product_id), "delta": delta, "reason": reason}, format="json",
                       **headers)


def adjustments(product_id) -> list[StockMovement]:
    return list(StockMovement.objects.filter(product_id=product_id, kind=StockMovement.ADJUST).exclude(
        reason="initial stock").order_by("id"))


def test_the_owner_adds_stock_and_the_ledger_records_who_why_and_which_request(seller_client, seller, make_product):
    doc = make_product(seller, stock=10)

    response = change(seller_client, doc.product_id, 5, reason="delivery from supplier", key="restock-1")

    assert response.status_code == 200
    assert response.json() == {"productId": str(doc.product_id), "available": 15, "reserved": 0}
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 15
    [movement] = adjustments(doc.product_id)
    assert (movement.on_hand_delta, movement.actor_id, movement.reason, movement.request_key) == (
        5, seller.id, "delivery from supplier", "restock-1")


def test_taking_stock_away_counts_reservations(seller_client, seller, make_product):
    doc = make_product(seller, stock=10)
    Stock.objects.filter(product_id=doc.product_id).update(reserved=3)

    response = change(seller_client, doc.product_id, -7, reason="damaged")

    assert response.status_code == 200
    assert response.json() == {"productId": str(doc.product_id), "available": 0, "reserved": 3}


def test_selling_out_publishes_stock_availability_changed(seller_client, seller, make_product):
    doc = make_product(seller, stock=2)

    change(seller_client, doc.product_id, -2, reason="lost")

    event = OutboxEvent.objects.filter(name="catalog.stock_availability_changed",
                                       aggregate_id=str(doc.product_id)).latest("id")
    assert event.payload["in_stock"] is False
    assert event.payload["available"] == 0


def test_a_change_that_would_make_available_stock_negative_is_409_and_changes_nothing(
        seller_client, seller, make_product):
    doc = make_product(seller, stock=3)

    response = change(seller_client, doc.product_id, -4, reason="audit")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 3
    assert adjustments(doc.product_id) == []


def test_another_seller_may_not_change_stock(client_for, make_member, seller, make_product):
    doc = make_product(seller, stock=3)

    response = change(client_for(make_member(role="seller")), doc.product_id, 100)

    assert response.status_code == 403
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 3
    assert adjustments(doc.product_id) == []


def test_a_buyer_may_not_change_stock(member_client, seller, make_product):
    doc = make_product(seller)

    assert change(member_client, doc.product_id, 1).status_code == 403


def test_changing_stock_without_a_token_is_401(api_client, seller, make_product):
    doc = make_product(seller)

    assert change(api_client, doc.product_id, 1).status_code == 401


def test_changing_stock_of_an_unknown_product_is_404(seller_client):
    response = change(seller_client, uuid.uuid4(), 1)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("field", "value"), [
    ("delta", 0),
    ("delta", "5"),
    ("delta", 1.5),
    ("delta", True),
    ("delta", None),
    ("delta", rules.STOCK_DELTA_MAX + 1),
    ("delta", -rules.STOCK_DELTA_MAX - 1),
    ("reason", ""),
    ("reason", "   "),
    ("reason", "r" * (rules.REASON_MAX + 1)),
    ("reason", None),
    ("productId", "not-a-uuid"),
    ("productId", None),
])
def test_invalid_inventory_changes_are_400_with_the_field_named(seller_client, seller, make_product, field, value):
    doc = make_product(seller, stock=3)
    body = {"productId": str(doc.product_id), "delta": 1, "reason": "restock", field: value}

    response = seller_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert adjustments(doc.product_id) == []


def test_a_repeated_request_with_the_same_key_answers_the_same_without_a_second_change(
        seller_client, seller, make_product):
    doc = make_product(seller, stock=10)

    first = change(seller_client, doc.product_id, 5, key="k-1")
    again = change(seller_client, doc.product_id, 5, key="k-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() == {"productId": str(doc.product_id), "available": 15, "reserved": 0}
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 15
    assert len(adjustments(doc.product_id)) == 1


def test_the_same_key_with_a_different_body_is_409(seller_client, seller, make_product):
    doc = make_product(seller, stock=10)
    change(seller_client, doc.product_id, 5, key="k-1")

    response = change(seller_client, doc.product_id, 6, key="k-1")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 15


def test_without_a_key_every_request_takes_effect(seller_client, seller, make_product):
    doc = make_product(seller, stock=0)

    change(seller_client, doc.product_id, 1)
    change(seller_client, doc.product_id, 1)

    assert Stock.objects.get(product_id=doc.product_id).on_hand == 2
    assert len(adjustments(doc.product_id)) == 2


def test_idempotency_keys_are_scoped_to_the_member(client_for, make_member, seller, make_product):
    other_seller = make_member(role="seller")
    mine, theirs = make_product(seller, stock=1), make_product(other_seller, stock=1)

    first = change(client_for(seller), mine.product_id, 2, key="shared-key")
    second = change(client_for(other_seller), theirs.product_id, 3, key="shared-key")

    assert first.json()["available"] == 3
    assert second.status_code == 200
    assert second.json() == {"productId": str(theirs.product_id), "available": 4, "reserved": 0}


def test_a_refused_change_does_not_use_up_its_key(seller_client, seller, make_product):
    doc = make_product(seller, stock=1)
    assert change(seller_client, doc.product_id, -2, key="k-1").status_code == 409

    Stock.objects.filter(product_id=doc.product_id).update(on_hand=5)
    response = change(seller_client, doc.product_id, -2, key="k-1")

    assert response.status_code == 200
    assert response.json()["available"] == 3


@pytest.mark.parametrize("key", ["k" * 201, ""])
def test_an_unusable_idempotency_key_is_400(seller_client, seller, make_product, key):
    doc = make_product(seller, stock=1)

    response = change(seller_client, doc.product_id, 1, key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert adjustments(doc.product_id) == []


def test_a_key_of_200_characters_is_fine(seller_client, seller, make_product):
    doc = make_product(seller, stock=1)

    assert change(seller_client, doc.product_id, 1, key="k" * 200).status_code == 200
