"""Delivery fixtures: addresses, deliveries made through the service, signed carrier webhooks,
and the carrier simulator as a child process."""
from __future__ import annotations

import json
import uuid

import pytest
from django.db import transaction

from commerce.delivery.carrier import SIGNATURE_HEADER, reset_carrier, signature

ADDRESS = {"recipient": "Kim Minji", "phone": "+821012345678", "line1": "12 Example-ro", "line2": "Apt 301",
           "city": "Seoul", "postalCode": "04524", "country": "KR"}


def snapshot(**changes) -> dict:
    return {"addressId": str(uuid.uuid4()), **ADDRESS, **changes}


@pytest.fixture
def make_delivery(db):
    """Factory: a delivery as the OrderConfirmed handler records it (``REQUESTED``, to be booked)."""
    from commerce.delivery import services

    def make(*, buyer_id=None, order_id=None, address=None):
        with transaction.atomic():
            return services.delivery_request(order_id=order_id or uuid.uuid4(), buyer_id=buyer_id or uuid.uuid4(),
                                             address=address or snapshot(),
                                             lines=[{"productId": str(uuid.uuid4()), "quantity": 1}])

    return make


@pytest.fixture
def webhook(api_client, settings):
    """``webhook(delivery_id, "SHIPPED", event_id=..., secret=...)`` posts a carrier notification
    signed like the carrier signs it; returns the response."""

    def post(shipment_key, status, *, event_id=None, secret=None, body=None, tracking="SIMTEST0001",
             reason="", signature_value=None):
        raw = body if body is not None else json.dumps({
            "eventId": event_id or f"evt_{uuid.uuid4().hex}", "type": "shipment.status_changed",
            "trackingNumber": tracking, "shipmentKey": str(shipment_key), "status": status,
            "occurredAt": "2026-11-24T10:00:00Z", "reason": reason,
        }).encode()
        sig = signature_value if signature_value is not None else signature(
            secret or settings.DELIVERY["CARRIER_WEBHOOK_SECRET"], raw)
        return api_client.post("/delivery/carrier-webhook", data=raw, content_type="application/json",
                                headers={SIGNATURE_HEADER: sig})

    return post


@pytest.fixture(scope="module")
def carrier_simulator(django_db_blocker):
    """One simulator per test module; webhooks go nowhere (this process serves no HTTP)."""
    from tests.support.carrier import start_carrier

    simulator = start_carrier(manual=True)
    yield simulator
    simulator.stop()


@pytest.fixture
def carrier_sim(carrier_simulator, settings):
    """The module's simulator, reset (manual clock, normal mode), and the shop's adapter pointed at it."""
    carrier_simulator.reset(autoAdvance=False)
    settings.DELIVERY = {**settings.DELIVERY, "CARRIER_URL": carrier_simulator.url}
    reset_carrier()
    yield carrier_simulator
    reset_carrier()
