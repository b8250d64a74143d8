"""OrderConfirmed creates the delivery, OrderCancelled cancels it: through the real bus path
(outbox, relay, inbox, the subscribed handler), each delivered twice with one effect."""
import time
import uuid

import pytest
from django.db import transaction

from commerce.delivery import services
from commerce.delivery.models import CarrierTodo, Delivery, OrderCancellation, StatusChange
from commerce.delivery.services import DeliveryRequest
from commerce.eventbus.delivery import deliver
from commerce.eventbus.models import OutboxEvent
from commerce.eventbus.publisher import publish
from commerce.eventbus.relay import relay_once
from commerce.orders.events import OrderCancelled, OrderConfirmed, OrderLine
from tests.delivery.conftest import snapshot

pytestmark = pytest.mark.django_db(transaction=True)
HANDLER = "delivery.order_events"


def confirmed(order_id=None, buyer_id=None, address=None):
    return OrderConfirmed(aggregate_id=str(order_id or uuid.uuid4()), aggregate_version=3,
                          buyer_id=str(buyer_id or uuid.uuid4()), address_id=str(uuid.uuid4()),
                          address=address if address is not None else snapshot(),
                          lines=(OrderLine(product_id=str(uuid.uuid4()), quantity=2),))


def cancelled(order_id, reason="buyer changed their mind"):
    return OrderCancelled(aggregate_id=str(order_id), aggregate_version=4, reason=reason)


def handle(*events):
    """Publish, relay and deliver to the delivery handler, as a worker would."""
    with transaction.atomic():
        for event in events:
            publish(event)
    sends = []
    while relay_once(sender=sends.extend) > 0:
        pass
    for send in sends:
        if send.handler == HANDLER:
            assert not deliver(send.dispatch_id, send.handler, send.partition).busy


def status_events(delivery):
    return [(row.payload["status"], row.aggregate_version) for row in
            OutboxEvent.objects.filter(name="delivery.status_changed", aggregate_id=str(delivery.id)).order_by("id")]


def test_order_confirmed_records_a_requested_delivery_to_be_booked():
    event = confirmed()
    handle(event)
    delivery = Delivery.objects.get(order_id=event.aggregate_id)
    assert (delivery.status, delivery.version, str(delivery.buyer_id)) == ("REQUESTED", 1, event.buyer_id)
    assert delivery.address == event.address
    assert delivery.lines == [{"productId": event.lines[0].product_id, "quantity": 2}]
    assert delivery.carrier_todo == CarrierTodo.SEND and delivery.tracking_number == ""
    assert status_events(delivery) == [("REQUESTED", 1)]
    [payload] = [row.payload for row in OutboxEvent.objects.filter(name="delivery.status_changed")]
    assert (payload["order_id"], payload["buyer_id"]) == (event.aggregate_id, event.buyer_id)


def test_the_same_event_twice_and_a_second_confirmation_make_one_delivery():
    event = confirmed()
    handle(event, event)  # one event id twice: the inbox
    handle(confirmed(order_id=event.aggregate_id, buyer_id=event.buyer_id))  # a new event id, same order
    assert Delivery.objects.filter(order_id=event.aggregate_id).count() == 1
    assert OutboxEvent.objects.filter(name="delivery.status_changed").count() == 1


def test_an_unusable_address_snapshot_fails_the_delivery_at_once():
    event = confirmed(address={"addressId": str(uuid.uuid4()), "recipient": "Kim Minji"})
    handle(event)
    delivery = Delivery.objects.get(order_id=event.aggregate_id)
    assert delivery.status == "FAILED" and delivery.failure_reason.startswith("ADDRESS_INVALID")
    assert delivery.carrier_todo == ""
    assert status_events(delivery) == [("FAILED", 1)]


def test_cancelling_before_the_booking_fails_the_delivery_without_calling_the_carrier():
    event = confirmed()
    handle(event)
    handle(cancelled(event.aggregate_id), cancelled(event.aggregate_id))
    delivery = Delivery.objects.get(order_id=event.aggregate_id)
    assert delivery.status == "FAILED" and delivery.failure_reason == "ORDER_CANCELLED: buyer changed their mind"
    assert delivery.carrier_todo == ""  # never sent: nothing to cancel at the carrier
    assert status_events(delivery) == [("REQUESTED", 1), ("FAILED", 2)]
    assert OrderCancellation.objects.get(order_id=event.aggregate_id).outcome == "cancelled"


def test_cancelling_a_booked_delivery_cancels_it_at_the_carrier_too():
    event = confirmed()
    handle(event)
    Delivery.objects.filter(order_id=event.aggregate_id).update(
        tracking_number="SIMBOOKED01", carrier_todo="", carrier_due_at=None, carrier_attempts=1)
    handle(cancelled(event.aggregate_id))
    delivery = Delivery.objects.get(order_id=event.aggregate_id)
    assert (delivery.status, delivery.carrier_todo) == ("FAILED", CarrierTodo.CANCEL)
    assert delivery.carrier_due_at is not None


def test_cancelling_after_shipping_is_recorded_and_ignored():
    event = confirmed()
    handle(event)
    delivery = Delivery.objects.get(order_id=event.aggregate_id)
    Delivery.objects.filter(id=delivery.id).update(status="SHIPPED", version=2, carrier_todo="")
    handle(cancelled(event.aggregate_id))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version) == ("SHIPPED", 2)
    assert OrderCancellation.objects.get(order_id=event.aggregate_id).outcome == "too_late"
    assert status_events(delivery) == [("REQUESTED", 1)]


def test_a_cancellation_without_a_delivery_is_recorded_and_a_late_confirmation_makes_none():
    order_id = uuid.uuid4()
    handle(cancelled(order_id))
    assert OrderCancellation.objects.get(order_id=order_id).outcome == "no_delivery"
    handle(confirmed(order_id=order_id))  # out of order (e.g. a retried event)
    assert not Delivery.objects.filter(order_id=order_id).exists()
    assert not StatusChange.objects.exists()


def test_one_batch_of_confirmations_and_cancellations_keeps_each_orders_event_order():
    a, b, late = confirmed(), confirmed(), uuid.uuid4()
    broken = confirmed(address={"recipient": "Kim Minji"})
    # one publish, so one relay run and one dispatch per partition: the handler gets them as a batch
    handle(a, b, confirmed(order_id=a.aggregate_id, buyer_id=a.buyer_id), cancelled(b.aggregate_id),
           cancelled(late), confirmed(order_id=late), broken)
    assert Delivery.objects.get(order_id=a.aggregate_id).status == "REQUESTED"
    delivery_b = Delivery.objects.get(order_id=b.aggregate_id)
    assert delivery_b.status == "FAILED" and delivery_b.failure_reason.startswith("ORDER_CANCELLED")
    assert status_events(delivery_b) == [("REQUESTED", 1), ("FAILED", 2)]
    assert not Delivery.objects.filter(order_id=late).exists()  # cancelled before its confirmation
    assert Delivery.objects.get(order_id=broken.aggregate_id).failure_reason.startswith("ADDRESS_INVALID")
    assert Delivery.objects.count() == 3 and StatusChange.objects.count() == 4
    assert OutboxEvent.objects.filter(name="delivery.status_changed").count() == 4


def test_deliveries_get_time_ordered_ids_so_their_index_inserts_land_together():
    def request(n):
        with transaction.atomic():
            return services.deliveries_request([DeliveryRequest(order_id=uuid.uuid4(), buyer_id=uuid.uuid4(),
                                                                address=snapshot(), lines=[]) for _ in range(n)])

    def milliseconds(delivery_id):  # uuid7: the first 48 bits are the Unix time in milliseconds
        return delivery_id.int >> 80

    before = time.time_ns() // 1_000_000
    first = request(1)
    later = request(3)
    after = time.time_ns() // 1_000_000
    ids = first + later
    assert len(ids) == 4 and {i.version for i in ids} == {7}
    assert all(before <= milliseconds(i) <= after for i in ids)
    assert milliseconds(ids[0]) <= min(milliseconds(i) for i in later)  # a later call's ids never sort earlier
    assert Delivery.objects.filter(id__in=ids).count() == 4
