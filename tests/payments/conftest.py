"""Payments fixtures: the gateway simulator as a real child process (one per test session),
reset before each test, payment methods made over the API, and payment requests delivered
through the event bus as orders would send them."""
from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from tests.support.gateway import start_gateway

APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
PROCESSING_ERROR_CARD = "4000000000000119"
# how long the simulator holds back the answer of a "timeout" call: longer than the test
# settings' gateway timeout (1 s), so the client gives up first
TIMEOUT_HOLD_SECONDS = 3.0


@pytest.fixture(scope="session")
def gateway_process(django_db_blocker):
    with django_db_blocker.unblock():  # child_env reads the test database's settings
        gateway = start_gateway(timeout_hold=TIMEOUT_HOLD_SECONDS)
    yield gateway
    gateway.stop()


@pytest.fixture
def gateway(gateway_process, settings):
    """The simulator, emptied and healthy, with the settings pointing at it and a closed breaker."""
    from commerce.payments.breaker import gateway_breaker

    gateway_process.reset()
    settings.PAYMENTS = {**settings.PAYMENTS, "GATEWAY_URL": gateway_process.url}
    gateway_breaker().reset()
    yield gateway_process
    gateway_process.faults(mode="ok", latency_ms=0)
    gateway_breaker().reset()


@pytest.fixture
def buyer(make_member):
    return make_member(role="buyer", name="Test Buyer")


@pytest.fixture
def buyer_client(client_for, buyer):
    return client_for(buyer)


def card_body(number=APPROVED_CARD, **fields):
    return {"type": "card", "cardNumber": number, "expMonth": 12, "expYear": 2031, "holderName": "Test Buyer",
            **fields}


@pytest.fixture
def add_method(gateway, client_for):
    """Factory: ``add_method(member, number)`` -> the method's JSON, created over the API."""

    def add(member, number=APPROVED_CARD, **fields):
        response = client_for(member).post("/payment/methods", card_body(number, **fields), format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return add


def payment_requested(buyer_id, method_id, *, order_id=None, amount="12900.00", version=1):
    from commerce.orders.events import OrderPaymentRequested

    return OrderPaymentRequested(aggregate_id=str(order_id or uuid.uuid4()), aggregate_version=version,
                                 buyer_id=str(buyer_id), payment_method_id=str(method_id),
                                 amount=Decimal(amount), currency="KRW")


def deliver_events(*events):
    """Publish events as orders would, then relay and deliver them in this process through the
    bus (outbox, dispatches, inbox) to every subscriber."""
    from django.test import TestCase

    from commerce.eventbus import publish_many
    from commerce.eventbus.delivery import deliver
    from commerce.eventbus.relay import relay_once

    if events:
        with transaction.atomic():
            publish_many(list(events))
    sends = []
    # the relay hands its dispatches over after commit; inside a test's transaction, "after commit"
    # is the end of this block
    with TestCase.captureOnCommitCallbacks(execute=True):
        while relay_once(sender=sends.extend) > 0:
            pass
    for send in sends:
        deliver(send.dispatch_id, send.handler, send.partition)


def published(name, **payload):
    """Outbox events of this name whose payload contains ``payload``."""
    from commerce.eventbus.models import OutboxEvent

    rows = OutboxEvent.objects.filter(name=name).order_by("id")
    return [row for row in rows if all(row.payload.get(k) == v for k, v in payload.items())]


def run_processor(**kwargs):
    """One processor loop in this process, until idle."""
    from commerce.payments.processor import Processor

    kwargs.setdefault("idle_seconds", 0.3)
    kwargs.setdefault("max_seconds", 30)
    return Processor(**kwargs).run()


def process_until(condition, *, timeout: float = 30, **kwargs):
    """Run processor loops until ``condition()`` holds (polls, no fixed sleeps: a loaded box only
    makes it slower)."""
    deadline = time.monotonic() + timeout
    while True:
        run_processor(**{"max_seconds": 2, **kwargs})
        if condition():
            return
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {condition.__doc__ or condition}"
