"""Booking and cancelling at the carrier, outside transactions, against the simulator over HTTP:
once per delivery whatever the carrier does (down, 5xx, too slow), never lost."""
import uuid

import pytest
from django.db import transaction

from commerce.delivery import services
from commerce.delivery.carrier_sync import carrier_sync
from commerce.delivery.models import CarrierTodo, Delivery
from commerce.eventbus.models import OutboxEvent
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def sync_until(check, *, timeout=15, what="the carrier work"):
    """Run the worker's sync (as beat would) until ``check()``; backoffs in tests are ~0.2 s."""

    def done():
        carrier_sync(max_seconds=5)
        return check()

    wait_until(done, timeout=timeout, what=what, interval=0.1)


def fresh(delivery):
    return Delivery.objects.get(id=delivery.id)


def test_a_requested_delivery_is_booked_once_and_keeps_its_tracking_number(carrier_sim, make_delivery):
    delivery = make_delivery()
    result = carrier_sync()
    assert result.booked == 1
    shipment = carrier_sim.shipment(delivery.id)
    assert shipment["createCalls"] == 1 and shipment["address"]["city"] == "Seoul"
    assert shipment["lines"] == delivery.lines
    delivery = fresh(delivery)
    assert delivery.tracking_number == shipment["trackingNumber"]
    assert (delivery.status, delivery.carrier_todo, delivery.carrier_error) == ("REQUESTED", "", "")
    assert carrier_sync().booked == 0  # nothing left to do
    assert carrier_sim.shipment(delivery.id)["createCalls"] == 1


@pytest.mark.parametrize("mode", ["down", "error"])
def test_carrier_down_then_back_books_the_shipment_once(carrier_sim, make_delivery, mode):
    carrier_sim.configure(mode=mode)
    deliveries = [make_delivery() for _ in range(3)]
    result = carrier_sync()
    # the first failure stops the run: the other two wait for their backoff instead of the same timeout
    assert (result.booked, result.failed) == (0, 3)
    assert carrier_sim.state()["refusedCalls"] == 1
    for delivery in deliveries:
        row = fresh(delivery)
        assert (row.status, row.carrier_todo, row.carrier_attempts) == ("REQUESTED", CarrierTodo.SEND, 1)
        assert row.carrier_error and row.carrier_due_at is not None
    assert carrier_sync().booked == 0  # not due yet: the backoff holds
    assert carrier_sim.state()["refusedCalls"] == 1

    carrier_sim.configure(mode="normal")
    sync_until(lambda: all(fresh(d).tracking_number for d in deliveries), what="the bookings after the outage")
    for delivery in deliveries:
        shipment = carrier_sim.shipment(delivery.id)
        assert shipment["createCalls"] == 1
        assert fresh(delivery).tracking_number == shipment["trackingNumber"]
        assert fresh(delivery).carrier_todo == ""
    assert len(carrier_sim.shipments()) == 3


def test_an_answer_lost_to_a_timeout_is_booked_again_under_the_same_key_not_twice(carrier_sim, make_delivery):
    carrier_sim.configure(mode="slow", slowSeconds=2.0)  # longer than the test read timeout (1 s)
    delivery = make_delivery()
    assert carrier_sync().failed == 1
    wait_until(lambda: carrier_sim.shipment(delivery.id) is not None, timeout=10,
               what="the carrier to book it after all")
    assert fresh(delivery).tracking_number == ""  # the shop never heard the answer
    carrier_sim.configure(mode="normal")
    sync_until(lambda: fresh(delivery).tracking_number != "")
    shipment = carrier_sim.shipment(delivery.id)
    assert shipment["createCalls"] == 2 and len(carrier_sim.shipments()) == 1
    assert fresh(delivery).tracking_number == shipment["trackingNumber"]


def test_a_booking_the_carrier_refuses_fails_the_delivery(carrier_sim, make_delivery):
    delivery = make_delivery()
    Delivery.objects.filter(id=delivery.id).update(address={"recipient": "Kim Minji"})  # no line1, no country
    assert carrier_sync().rejected == 1
    delivery = fresh(delivery)
    assert delivery.status == "FAILED" and delivery.failure_reason.startswith("CARRIER_REJECTED")
    assert delivery.carrier_todo == ""
    last = OutboxEvent.objects.filter(name="delivery.status_changed", aggregate_id=str(delivery.id)).last()
    assert (last.payload["status"], last.aggregate_version) == ("FAILED", 2)


def cancel(delivery):
    with transaction.atomic():
        return services.delivery_cancel_for_order(order_id=delivery.order_id, reason="changed mind")


def test_a_cancelled_order_cancels_its_booked_shipment_at_the_carrier(carrier_sim, make_delivery):
    delivery = make_delivery()
    carrier_sync()
    assert cancel(delivery) == "cancelled"
    assert carrier_sync().cancelled == 1
    shipment = carrier_sim.shipment(delivery.id)
    assert (shipment["status"], shipment["cancelCalls"]) == ("CANCELLED", 1)
    delivery = fresh(delivery)
    assert (delivery.status, delivery.carrier_todo, delivery.carrier_error) == ("FAILED", "", "")


def test_a_cancel_while_the_carrier_is_down_is_retried_until_it_lands(carrier_sim, make_delivery):
    delivery = make_delivery()
    carrier_sync()
    carrier_sim.configure(mode="down")
    cancel(delivery)
    assert carrier_sync().failed == 1
    carrier_sim.configure(mode="normal")
    sync_until(lambda: fresh(delivery).carrier_todo == "")
    assert carrier_sim.shipment(delivery.id)["status"] == "CANCELLED"


def test_a_cancel_that_reaches_the_carrier_too_late_is_recorded(carrier_sim, make_delivery):
    delivery = make_delivery()
    carrier_sync()
    carrier_sim.advance(delivery.id)  # shipped at the carrier; its webhook has not reached the shop
    cancel(delivery)
    carrier_sync()
    delivery = fresh(delivery)
    assert delivery.carrier_todo == "" and "refused the cancellation" in delivery.carrier_error
    assert carrier_sim.shipment(delivery.id)["status"] == "SHIPPED"


def test_a_booking_that_arrives_after_its_cancel_is_born_cancelled(carrier_sim, make_delivery):
    """The race the lease leaves open: the cancel overtakes a booking still on the wire."""
    delivery = make_delivery()
    Delivery.objects.filter(id=delivery.id).update(carrier_attempts=1)  # a booking may be out there
    cancel(delivery)
    carrier_sync()  # the cancel reaches the carrier first: the key is unknown there, and remembered
    assert str(delivery.id) in carrier_sim.state()["cancelledUnknownKeys"]
    response = carrier_sim.http.post("/shipments", json={"shipmentKey": str(delivery.id),
                                                         "address": delivery.address, "lines": []})
    assert response.json()["status"] == "CANCELLED"


def test_the_staff_resend_books_an_existing_delivery_again(carrier_sim, make_delivery, make_member, client_for):
    staff = client_for(make_member(is_staff=True))
    delivery = make_delivery()
    carrier_sync()
    response = staff.post("/delivery/process-delivery", {"orderId": str(delivery.order_id)}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["deliveryId"] == str(delivery.id) and response.json()["status"] == "REQUESTED"
    assert fresh(delivery).carrier_todo == "send"
    carrier_sync()
    shipment = carrier_sim.shipment(delivery.id)
    assert shipment["createCalls"] == 2 and fresh(delivery).tracking_number == shipment["trackingNumber"]
    assert len(carrier_sim.shipments()) == 1


def test_process_delivery_is_staff_only_404_without_a_delivery_409_once_shipped(make_delivery, make_member,
                                                                                 client_for, member_client):
    staff = client_for(make_member(is_staff=True))
    delivery = make_delivery()
    assert member_client.post("/delivery/process-delivery", {"orderId": str(delivery.order_id)},
                              format="json").status_code == 403
    assert staff.post("/delivery/process-delivery", {"orderId": str(uuid.uuid4())}, format="json").status_code == 404
    assert staff.post("/delivery/process-delivery", {"orderId": "nope"}, format="json").status_code == 400
    Delivery.objects.filter(id=delivery.id).update(status="SHIPPED")
    response = staff.post("/delivery/process-delivery", {"orderId": str(delivery.order_id)}, format="json")
    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"


def test_the_claim_lease_keeps_a_second_worker_off_work_in_flight(make_delivery):
    make_delivery()
    first = services.carrier_work_claim(limit=10)
    assert len(first) == 1
    assert services.carrier_work_claim(limit=10) == []
    Delivery.objects.update(carrier_due_at=Delivery.objects.get().carrier_due_at.replace(year=2000))
    assert len(services.carrier_work_claim(limit=10)) == 1  # lease over (the first worker died): claimed again
