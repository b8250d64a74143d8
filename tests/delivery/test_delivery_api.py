"""GET /delivery/deliveries/{id}: the order's buyer and staff see it; anyone else gets 404."""
import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_the_buyer_reads_the_delivery_with_its_history(make_member, client_for, make_delivery, webhook):
    buyer = make_member()
    delivery = make_delivery(buyer_id=buyer.id)
    webhook(delivery.id, "SHIPPED", tracking="SIMREAD0001")
    response = client_for(buyer).get(f"/delivery/deliveries/{delivery.id}")
    assert response.status_code == 200
    body = response.json()
    assert (body["deliveryId"], body["orderId"], body["status"], body["trackingNumber"]) == (
        str(delivery.id), str(delivery.order_id), "SHIPPED", "SIMREAD0001")
    assert [h["status"] for h in body["history"]] == ["REQUESTED", "SHIPPED"]
    assert body["history"][1]["at"] == "2026-11-24T10:00:00Z"


def test_before_booking_the_tracking_number_is_null(make_member, client_for, make_delivery):
    buyer = make_member()
    delivery = make_delivery(buyer_id=buyer.id)
    body = client_for(buyer).get(f"/delivery/deliveries/{delivery.id}").json()
    assert body["trackingNumber"] is None and body["status"] == "REQUESTED"


def test_staff_read_any_delivery(make_member, client_for, make_delivery):
    delivery = make_delivery()
    staff = client_for(make_member(is_staff=True))
    assert staff.get(f"/delivery/deliveries/{delivery.id}").status_code == 200


def test_another_buyer_gets_404_and_nothing_of_it(make_member, client_for, make_delivery):
    delivery = make_delivery(buyer_id=make_member().id)
    response = client_for(make_member()).get(f"/delivery/deliveries/{delivery.id}")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert str(delivery.order_id) not in response.content.decode()


def test_unknown_or_malformed_ids_are_404_and_no_token_is_401(member_client, api_client, make_delivery):
    delivery = make_delivery()
    assert member_client.get(f"/delivery/deliveries/{uuid.uuid4()}").status_code == 404
    assert member_client.get("/delivery/deliveries/not-a-uuid").status_code == 404
    assert api_client.get(f"/delivery/deliveries/{delivery.id}").status_code == 401
