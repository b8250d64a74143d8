"""POST /delivery/carrier-webhook through the WSGI application the web server runs
(config/wsgi.py): a signed, well-formed notification takes the fast path and answers exactly what
the full stack answers; anything else is answered by the full stack."""
from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings

from commerce.delivery.carrier import signature
from commerce.delivery.http.views import WEBHOOK_BODY_MAX
from commerce.delivery.models import CarrierEvent, Delivery, StatusChange
from commerce.eventbus.models import OutboxEvent
from commerce.shared.http.fastpath import FastPaths
from config.wsgi import fast_paths
from tests.support import wsgi
from tests.support.wsgi import call

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connections_stay_open")]

URL = "/delivery/carrier-webhook"


def notification(delivery_id, status, *, event_id=None, **extra) -> bytes:
    return json.dumps({"eventId": event_id or f"evt_{uuid.uuid4().hex}", "shipmentKey": str(delivery_id),
                       "trackingNumber": "SIMFAST001", "status": status, "occurredAt": "2026-11-24T10:00:00Z",
                       **extra}).encode()


def environ(raw: bytes, *, secret=None, sig=None) -> dict:
    value = sig if sig is not None else signature(secret or settings.DELIVERY["CARRIER_WEBHOOK_SECRET"], raw)
    return wsgi.environ(URL, raw, X_Carrier_Signature=value)


@pytest.fixture
def full():
    return wsgi.Counting()


@pytest.fixture
def app(full):
    return FastPaths(full, fast_paths.routes)


@pytest.fixture
def full_only(full):
    return FastPaths(full, {})


def test_the_wsgi_application_has_the_webhook_fast_path():
    assert ("POST", URL) in fast_paths.routes


def test_a_signed_notification_takes_the_fast_path_and_answers_like_the_full_stack(
        app, full_only, full, make_delivery):
    slow_delivery, fast_delivery = make_delivery(), make_delivery()
    slow_status, slow_headers, slow_body = call(full_only, environ(notification(slow_delivery.id, "SHIPPED")))
    assert full.calls == 1

    fast_status, fast_headers, fast_body = call(app, environ(notification(fast_delivery.id, "SHIPPED",
                                                                          event_id="evt-fast-1")))

    assert full.calls == 1
    assert (fast_status, slow_status) == (200, 200)
    assert json.loads(fast_body) == {"eventId": "evt-fast-1", "outcome": "applied"}
    assert json.loads(slow_body)["outcome"] == "applied"
    slow_headers.pop("Content-Length"), fast_headers.pop("Content-Length")
    assert fast_headers == slow_headers
    # both wrote the same things
    for delivery in (slow_delivery, fast_delivery):
        delivery.refresh_from_db()
        assert (delivery.status, delivery.version, delivery.tracking_number, delivery.carrier_todo) == (
            "SHIPPED", 2, "SIMFAST001", "")
        assert list(StatusChange.objects.filter(delivery=delivery).order_by("id").values_list(
            "status", "carrier_event_id")) == [("REQUESTED", ""), ("SHIPPED", CarrierEvent.objects.get(
                delivery_id=delivery.id).event_id)]
    slow_event, fast_event = (OutboxEvent.objects.filter(name="delivery.status_changed", aggregate_id=str(d.id))
                              .order_by("id").last() for d in (slow_delivery, fast_delivery))
    assert fast_event.aggregate_version == slow_event.aggregate_version == 2
    ignore = {"order_id", "buyer_id", "event_id", "aggregate_id", "occurred_at"}
    assert {k: v for k, v in fast_event.payload.items() if k not in ignore} == {
        k: v for k, v in slow_event.payload.items() if k not in ignore}
    assert fast_event.payload["order_id"] == str(fast_delivery.order_id)


def test_repeats_stale_steps_and_unknown_shipments_are_answered_on_the_fast_path(app, full, make_delivery):
    delivery = make_delivery()
    raw = notification(delivery.id, "DELIVERED", event_id="evt-done")
    outcomes = [json.loads(call(app, environ(body))[2])["outcome"] for body in (
        raw, raw, notification(delivery.id, "SHIPPED"), notification(uuid.uuid4(), "SHIPPED"),
        notification("not-a-uuid", "SHIPPED"), notification(delivery.id, "CANCELLED"))]
    assert outcomes == ["applied", "duplicate", "stale", "unknown_delivery", "unknown_delivery", "ignored"]
    assert full.calls == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version) == ("DELIVERED", 2)


def test_a_batch_takes_the_fast_path_and_answers_like_the_full_stack(app, full_only, full, make_delivery):
    answers = []
    for application_ in (full_only, app):
        delivery = make_delivery()
        items = [json.loads(notification(delivery.id, status, event_id=f"{delivery.id}-{status}"))
                 for status in ("SHIPPED", "IN_TRANSIT")] + [{"eventId": "bad"}]
        status, headers, body = call(application_, environ(json.dumps({"events": items}).encode()))
        headers.pop("Content-Length")
        results = json.loads(body)["results"]
        answers.append((status, headers, [r["outcome"] for r in results], results[2]))
        delivery.refresh_from_db()
        assert (delivery.status, delivery.version) == ("IN_TRANSIT", 3)
    assert full.calls == 1  # the full stack's own request only
    assert answers[0] == answers[1]
    assert answers[1][:3] == (200, answers[0][1], ["applied", "applied", "invalid"])


def test_a_failure_keeps_its_reason(app, make_delivery):
    delivery = make_delivery()
    call(app, environ(notification(delivery.id, "FAILED", reason="ADDRESS_NOT_FOUND")))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.failure_reason) == ("FAILED", "ADDRESS_NOT_FOUND")


@pytest.mark.parametrize("case", ["wrong secret", "no signature"])
def test_a_bad_signature_is_a_401_from_the_full_stack_and_changes_nothing(app, full, make_delivery, case):
    delivery = make_delivery()
    raw = notification(delivery.id, "SHIPPED")
    env = environ(raw, secret="not-the-shared-secret") if case == "wrong secret" else environ(raw, sig="")

    status, headers, _ = call(app, env)

    assert (status, full.calls) == (401, 1)
    assert headers["Content-Type"] == "application/problem+json"
    assert Delivery.objects.get(id=delivery.id).version == 1
    assert not CarrierEvent.objects.exists()


@pytest.mark.parametrize("raw", [
    json.dumps({"eventId": "e1", "shipmentKey": "k", "status": "TELEPORTED"}).encode(),
    json.dumps({"eventId": "", "shipmentKey": "k", "status": "SHIPPED"}).encode(),
    json.dumps({"eventId": "e1", "shipmentKey": "k", "status": "SHIPPED", "pad": "x" * WEBHOOK_BODY_MAX}).encode(),
])
def test_a_notification_the_fast_path_refuses_is_answered_by_the_full_stack(app, full, raw):
    status, headers, _ = call(app, environ(raw))

    assert (status, full.calls) == (400, 1)
    assert headers["Content-Type"] == "application/problem+json"
    assert not CarrierEvent.objects.exists()
