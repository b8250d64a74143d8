"""POST /delivery/carrier-webhook: signed, deduplicated, never backwards; every change in the
history and in the outbox as DeliveryStatusChanged."""
import json
import uuid

import pytest
from django.conf import settings

from commerce.delivery.carrier import signature
from commerce.delivery.models import CarrierEvent, Delivery, StatusChange
from commerce.eventbus.models import OutboxEvent

pytestmark = pytest.mark.django_db

EVENT = "delivery.status_changed"


def statuses(delivery):
    return list(StatusChange.objects.filter(delivery_id=delivery.id).order_by("id").values_list("status", flat=True))


def published(delivery):
    return [(row.payload["status"], row.aggregate_version)
            for row in OutboxEvent.objects.filter(name=EVENT, aggregate_id=str(delivery.id)).order_by("id")]


def test_a_signed_notification_moves_the_delivery_and_publishes_it(make_delivery, webhook):
    delivery = make_delivery()
    response = webhook(delivery.id, "SHIPPED", event_id="evt-1", tracking="SIMABC123")
    assert response.status_code == 200
    assert response.json() == {"eventId": "evt-1", "outcome": "applied"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version, delivery.tracking_number) == ("SHIPPED", 2, "SIMABC123")
    assert statuses(delivery) == ["REQUESTED", "SHIPPED"]
    assert published(delivery) == [("REQUESTED", 1), ("SHIPPED", 2)]
    shipped = OutboxEvent.objects.filter(name=EVENT, aggregate_id=str(delivery.id)).order_by("id").last().payload
    assert shipped["order_id"] == str(delivery.order_id) and shipped["buyer_id"] == str(delivery.buyer_id)
    assert shipped["tracking_number"] == "SIMABC123" and shipped["at"].startswith("2026-11-24T10:00:00")


@pytest.mark.parametrize("case", ["wrong secret", "no signature", "garbage", "body changed after signing"])
def test_a_bad_signature_is_a_401_and_changes_nothing(make_delivery, webhook, case):
    delivery = make_delivery()
    events_before = OutboxEvent.objects.count()
    if case == "wrong secret":
        response = webhook(delivery.id, "SHIPPED", secret="not-the-shared-secret")
    elif case == "no signature":
        response = webhook(delivery.id, "SHIPPED", signature_value="")
    elif case == "garbage":
        response = webhook(delivery.id, "SHIPPED", signature_value="sha256=" + "0" * 64)
    else:
        signed = json.dumps({"eventId": "e", "shipmentKey": str(delivery.id), "status": "SHIPPED"}).encode()
        tampered = signed.replace(b"SHIPPED", b"DELIVERED")
        response = webhook(delivery.id, "DELIVERED", body=tampered,
                           signature_value=signature(settings.DELIVERY["CARRIER_WEBHOOK_SECRET"], signed))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version) == ("REQUESTED", 1)
    assert not CarrierEvent.objects.exists()
    assert OutboxEvent.objects.count() == events_before


def test_the_same_notification_twice_changes_once(make_delivery, webhook):
    delivery = make_delivery()
    first = webhook(delivery.id, "SHIPPED", event_id="evt-twice")
    again = webhook(delivery.id, "SHIPPED", event_id="evt-twice")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["outcome"] == "duplicate"
    delivery.refresh_from_db()
    assert delivery.version == 2
    assert statuses(delivery) == ["REQUESTED", "SHIPPED"]
    assert published(delivery) == [("REQUESTED", 1), ("SHIPPED", 2)]


def test_a_replayed_event_id_is_a_duplicate_even_with_another_status(make_delivery, webhook):
    delivery = make_delivery()
    webhook(delivery.id, "SHIPPED", event_id="evt-reused")
    assert webhook(delivery.id, "DELIVERED", event_id="evt-reused").json()["outcome"] == "duplicate"
    delivery.refresh_from_db()
    assert delivery.status == "SHIPPED"


def test_shipped_after_delivered_is_ignored(make_delivery, webhook):
    delivery = make_delivery()
    for status in ("SHIPPED", "IN_TRANSIT", "DELIVERED"):
        assert webhook(delivery.id, status).json()["outcome"] == "applied"
    late = webhook(delivery.id, "SHIPPED", event_id="evt-late")
    assert late.status_code == 200 and late.json()["outcome"] == "stale"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version) == ("DELIVERED", 4)
    assert statuses(delivery) == ["REQUESTED", "SHIPPED", "IN_TRANSIT", "DELIVERED"]
    assert [s for s, _ in published(delivery)] == ["REQUESTED", "SHIPPED", "IN_TRANSIT", "DELIVERED"]
    assert CarrierEvent.objects.get(event_id="evt-late").outcome == "stale"


def test_a_step_that_arrives_early_skips_ahead_and_the_late_one_is_ignored(make_delivery, webhook):
    delivery = make_delivery()
    webhook(delivery.id, "IN_TRANSIT")
    assert webhook(delivery.id, "SHIPPED").json()["outcome"] == "stale"
    delivery.refresh_from_db()
    assert statuses(delivery) == ["REQUESTED", "IN_TRANSIT"] and delivery.version == 2


def test_nothing_moves_a_failed_or_delivered_delivery(make_delivery, webhook):
    failed, delivered = make_delivery(), make_delivery()
    webhook(failed.id, "FAILED", reason="LOST_IN_TRANSIT")
    webhook(delivered.id, "DELIVERED")
    assert webhook(failed.id, "DELIVERED").json()["outcome"] == "stale"
    assert webhook(delivered.id, "FAILED").json()["outcome"] == "stale"
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert (failed.status, failed.failure_reason, failed.version) == ("FAILED", "LOST_IN_TRANSIT", 2)
    assert (delivered.status, delivered.version) == ("DELIVERED", 2)


def test_a_carrier_failure_is_recorded_with_its_reason(make_delivery, webhook):
    delivery = make_delivery()
    webhook(delivery.id, "SHIPPED")
    webhook(delivery.id, "FAILED", reason="ADDRESS_NOT_FOUND")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.failure_reason) == ("FAILED", "ADDRESS_NOT_FOUND")
    last = OutboxEvent.objects.filter(name=EVENT, aggregate_id=str(delivery.id)).order_by("id").last()
    assert (last.payload["status"], last.payload["reason"], last.aggregate_version) == (
        "FAILED", "ADDRESS_NOT_FOUND", 3)


def test_a_notification_for_an_unknown_shipment_is_recorded_and_answered(webhook):
    response = webhook(uuid.uuid4(), "SHIPPED", event_id="evt-stranger")
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_delivery"
    assert not Delivery.objects.exists()
    assert CarrierEvent.objects.get(event_id="evt-stranger").outcome == "unknown_delivery"


@pytest.mark.parametrize("body", [
    b"not json", b"[1]", b"{}",
    json.dumps({"eventId": "e1", "shipmentKey": "k", "status": "TELEPORTED"}).encode(),
    json.dumps({"eventId": "", "shipmentKey": "k", "status": "SHIPPED"}).encode(),
    json.dumps({"eventId": "e" * 101, "shipmentKey": "k", "status": "SHIPPED"}).encode(),
])
def test_a_signed_but_malformed_notification_is_a_400(webhook, body):
    response = webhook("ignored", "ignored", body=body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not CarrierEvent.objects.exists()


def test_a_notification_beating_the_booking_answer_ends_the_sending(make_delivery, webhook):
    delivery = make_delivery()
    assert delivery.carrier_todo == "send"
    webhook(delivery.id, "SHIPPED", tracking="SIMEARLY01")
    delivery.refresh_from_db()
    assert (delivery.carrier_todo, delivery.tracking_number) == ("", "SIMEARLY01")
