"""Payments with real processes: Celery workers (beat included) relay OrderPaymentRequested to the
payments handler, the processor loops in the workers charge through the simulator, the shared
breaker rides out an outage, and every payment is charged exactly once after it."""
import pytest
import redis
from django.conf import settings
from django.db import transaction

from commerce.eventbus import publish_many
from commerce.payments.breaker import gateway_breaker
from commerce.payments.models import Payment
from tests.payments.conftest import payment_requested, published
from tests.support.processes import start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


@pytest.fixture
def workers(gateway):
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    started = []

    def start(name, **kwargs):
        env = {"PAYMENTS_GATEWAY_URL": gateway.url, "PAYMENTS_MAX_IN_FLIGHT": "32",
               "PAYMENTS_PROCESSOR_MAX_SECONDS": "3", "PAYMENTS_PROCESSORS": "2"}
        child = start_worker(name, **kwargs, **env)
        started.append(child)
        return child

    yield start
    for child in started:
        child.stop()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def test_an_outage_then_recovery_charges_every_waiting_payment_once_with_two_worker_processes(
        gateway, workers, add_method, buyer):
    method = add_method(buyer)
    gateway.faults(mode="down")
    first = workers("pay-a", queues="eventbus,payments,payments_processor", concurrency=2, beat=True)
    second = workers("pay-b", queues="payments_processor", concurrency=2, beat=False)
    events = [payment_requested(buyer.id, method["methodId"]) for _ in range(200)]
    with transaction.atomic():
        publish_many(events)

    def alive():
        assert first.alive(), first.tail()
        assert second.alive(), second.tail()

    def recorded():
        alive()
        return Payment.objects.count() == 200

    wait_until(recorded, timeout=60, what="200 payments recorded from the events", interval=0.25)

    def breaker_open():
        alive()
        return gateway_breaker().state() != "closed"

    wait_until(breaker_open, timeout=30, what="the breaker to open", interval=0.1)
    calls_when_open = gateway.stats()["calls"].get("charges", 0)
    assert Payment.objects.filter(status="PENDING").count() == 200
    assert Payment.objects.filter(processing_errors__gt=0).count() == 0
    assert calls_when_open < 200  # the outage did not cost every payment a call

    gateway.faults(mode="ok")

    def settled():
        alive()
        return Payment.objects.filter(status="APPROVED").count() == 200

    wait_until(settled, timeout=90, what="every payment approved after the outage", interval=0.25)
    references = [c["reference"] for c in gateway.succeeded_charges()]
    assert sorted(references) == sorted(e.aggregate_id for e in events)  # each order charged once
    assert len(published("payments.payment_approved")) == 200
    assert gateway_breaker().state() == "closed"
