"""The whole delivery path with real processes: a Celery worker (with beat) relays OrderConfirmed
to the delivery handler and books at the carrier simulator, whose signed webhooks reach the web server (uWSGI)
and move the delivery on; the buyer reads it over HTTP."""
import uuid

import httpx
import pytest
import redis
from django.conf import settings
from django.db import transaction
from knox.models import get_token_model

from commerce.delivery.models import Delivery, StatusChange
from commerce.eventbus.models import OutboxEvent
from commerce.eventbus.publisher import publish
from commerce.orders.events import OrderCancelled, OrderConfirmed, OrderLine
from tests.delivery.conftest import snapshot
from tests.support.carrier import start_carrier
from tests.support.processes import free_port, start_web, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
TIMEOUT = 60  # the machine is shared: generous


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    """The web server (uWSGI), a worker (queues eventbus and delivery, with beat) and the simulator, wired together."""
    with django_db_blocker.unblock():
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
        port = free_port()
        sim = start_carrier(webhook_url=f"http://127.0.0.1:{port}/delivery/carrier-webhook", step_seconds=0.3)
        web = start_web(port, CARRIER_URL=sim.url)
        worker = start_worker("delivery-e2e", queues="eventbus,delivery,carrier_sync", CARRIER_URL=sim.url)
    yield {"sim": sim, "base": f"http://127.0.0.1:{port}", "worker": worker, "web": web}
    worker.stop()
    web.stop()
    sim.stop()


@pytest.fixture
def sim(stack):
    stack["sim"].reset(autoAdvance=True, stepSeconds=0.3, webhookRetryBaseSeconds=0.2)
    return stack["sim"]


def confirm_order(buyer_id):
    event = OrderConfirmed(aggregate_id=str(uuid.uuid4()), aggregate_version=3, buyer_id=str(buyer_id),
                           address_id=str(uuid.uuid4()), address=snapshot(),
                           lines=(OrderLine(product_id=str(uuid.uuid4()), quantity=1),))
    with transaction.atomic():
        publish(event)
    return event.aggregate_id


def delivery_of(order_id):
    return Delivery.objects.filter(order_id=order_id).first()


def wait_for_status(stack, order_id, status):
    def reached():
        assert stack["worker"].alive(), stack["worker"].tail()
        delivery = delivery_of(order_id)
        return delivery is not None and delivery.status == status

    wait_until(reached, timeout=TIMEOUT, what=f"the delivery of {order_id} to be {status}", interval=0.2)
    return delivery_of(order_id)


def published(delivery):
    return [(row.payload["status"], row.aggregate_version) for row in OutboxEvent.objects.filter(
        name="delivery.status_changed", aggregate_id=str(delivery.id)).order_by("id")]


def history(delivery):
    return list(StatusChange.objects.filter(delivery_id=delivery.id).order_by("id").values_list("status", flat=True))


def token_for(member):
    return get_token_model().objects.create(user=member)[1]


def test_order_confirmed_to_delivered_through_the_carrier(stack, sim, make_member):
    buyer, stranger = make_member(), make_member()
    order_id = confirm_order(buyer.id)
    delivery = wait_for_status(stack, order_id, "DELIVERED")
    assert history(delivery) == ["REQUESTED", "SHIPPED", "IN_TRANSIT", "DELIVERED"]
    assert published(delivery) == [("REQUESTED", 1), ("SHIPPED", 2), ("IN_TRANSIT", 3), ("DELIVERED", 4)]
    shipment = sim.shipment(delivery.id)
    assert shipment["createCalls"] == 1 and delivery.tracking_number == shipment["trackingNumber"]
    assert all(n["deliveredAt"] for n in shipment["notifications"])

    url = f"{stack['base']}/delivery/deliveries/{delivery.id}"
    body = httpx.get(url, headers={"Authorization": f"Bearer {token_for(buyer)}"}).json()
    assert (body["deliveryId"], body["orderId"], body["status"], body["trackingNumber"]) == (
        str(delivery.id), order_id, "DELIVERED", shipment["trackingNumber"])
    assert [entry["status"] for entry in body["history"]] == ["REQUESTED", "SHIPPED", "IN_TRANSIT", "DELIVERED"]
    assert all(entry["at"] for entry in body["history"])
    other = httpx.get(url, headers={"Authorization": f"Bearer {token_for(stranger)}"})
    assert other.status_code == 404 and other.headers["Content-Type"] == "application/problem+json"
    assert "trackingNumber" not in other.text

    # the carrier tells it again, and out of order: nothing moves
    sim.notify(delivery.id, "SHIPPED")
    sim.resend(shipment["notifications"][0]["eventId"])
    wait_until(lambda: all(n["deliveredAt"] for n in sim.shipment(delivery.id)["notifications"]), timeout=TIMEOUT,
               what="the replays to be answered")
    again = delivery_of(order_id)
    assert (again.status, again.version) == ("DELIVERED", 4)
    assert len(published(again)) == 4


def test_carrier_down_then_back_books_once_and_the_delivery_goes_on(stack, sim, make_member):
    sim.configure(mode="down")
    order_id = confirm_order(make_member().id)
    wait_until(lambda: sim.state()["refusedCalls"] >= 2, timeout=TIMEOUT,
               what="the worker to try the dead carrier twice")
    assert delivery_of(order_id).tracking_number == "" and delivery_of(order_id).carrier_error
    sim.configure(mode="normal")
    delivery = wait_for_status(stack, order_id, "DELIVERED")
    assert sim.shipment(delivery.id)["createCalls"] == 1 and len(sim.shipments()) == 1


def test_a_shipment_the_carrier_fails_fails_the_delivery(stack, sim, make_member):
    sim.configure(autoAdvance=False)
    order_id = confirm_order(make_member().id)
    wait_until(lambda: (d := delivery_of(order_id)) is not None and d.tracking_number, timeout=TIMEOUT,
               what="the booking")
    sim.advance(delivery_of(order_id).id)
    wait_for_status(stack, order_id, "SHIPPED")
    sim.fail(delivery_of(order_id).id, reason="LOST_IN_TRANSIT")
    delivery = wait_for_status(stack, order_id, "FAILED")
    assert delivery.failure_reason == "LOST_IN_TRANSIT"
    assert published(delivery) == [("REQUESTED", 1), ("SHIPPED", 2), ("FAILED", 3)]


def test_a_cancelled_order_cancels_the_booked_shipment(stack, sim, make_member):
    sim.configure(autoAdvance=False)
    order_id = confirm_order(make_member().id)
    wait_until(lambda: (d := delivery_of(order_id)) is not None and d.tracking_number, timeout=TIMEOUT,
               what="the booking")
    with transaction.atomic():
        publish(OrderCancelled(aggregate_id=order_id, aggregate_version=4, reason="buyer cancelled"))
    delivery = wait_for_status(stack, order_id, "FAILED")
    wait_until(lambda: sim.shipment(delivery.id)["status"] == "CANCELLED", timeout=TIMEOUT,
               what="the carrier to cancel")
    assert delivery.failure_reason == "ORDER_CANCELLED: buyer cancelled"
    assert published(delivery) == [("REQUESTED", 1), ("FAILED", 2)]
    wait_until(lambda: delivery_of(order_id).carrier_todo == "", timeout=TIMEOUT, what="the cancel to be recorded")
