"""Batched carrier webhooks (``{"events": [...]}``): each notification is taken as if it had come
on its own, in the batch's order, and answered in a result of its own."""
import json
import uuid

import pytest

from commerce.delivery.carrier import BATCH_MAX
from commerce.delivery.models import CarrierEvent, Delivery, StatusChange
from commerce.eventbus.models import OutboxEvent

pytestmark = pytest.mark.django_db

EVENT = "delivery.status_changed"


def note(shipment_key, status, event_id, *, tracking="SIMBATCH001", reason="", **extra):
    return {"eventId": event_id, "type": "shipment.status_changed", "trackingNumber": tracking,
            "shipmentKey": str(shipment_key), "status": status, "occurredAt": "2026-11-24T10:00:00Z",
            "reason": reason, **extra}


def send(webhook, *items):
    return webhook("ignored", "ignored", body=json.dumps({"events": list(items)}).encode())


def published(delivery):
    return [(row.payload["status"], row.aggregate_version)
            for row in OutboxEvent.objects.filter(name=EVENT, aggregate_id=str(delivery.id)).order_by("id")]


def history(delivery):
    return list(StatusChange.objects.filter(delivery_id=delivery.id).order_by("id").values_list("status", flat=True))


def test_a_batch_takes_each_notification_in_order_and_answers_each(make_delivery, webhook):
    a, b = make_delivery(), make_delivery()
    unknown = uuid.uuid4()
    response = send(webhook,
                    note(a.id, "SHIPPED", "evt-a1", tracking="SIMA"),
                    note(b.id, "SHIPPED", "evt-b1", tracking="SIMB"),
                    note(a.id, "IN_TRANSIT", "evt-a2", tracking="SIMA"),
                    note(a.id, "SHIPPED", "evt-a1", tracking="SIMA"),  # a copy within the batch
                    note(unknown, "SHIPPED", "evt-unknown"),
                    note(b.id, "CANCELLED", "evt-b-cancelled"),
                    {"eventId": "evt-bad", "shipmentKey": str(b.id)},  # no status
                    "not an object",
                    note(b.id, "FAILED", "evt-b2", reason="Nobody home"))
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["eventId"], r["outcome"]) for r in results] == [
        ("evt-a1", "applied"), ("evt-b1", "applied"), ("evt-a2", "applied"), ("evt-a1", "duplicate"),
        ("evt-unknown", "unknown_delivery"), ("evt-b-cancelled", "ignored"), ("evt-bad", "invalid"),
        ("", "invalid"), ("evt-b2", "applied")]
    assert "status" in results[6]["detail"] and "detail" not in results[0]

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.version, a.tracking_number, a.carrier_todo) == ("IN_TRANSIT", 3, "SIMA", "")
    assert (b.status, b.version, b.tracking_number, b.failure_reason) == ("FAILED", 3, "SIMB", "Nobody home")
    assert history(a) == ["REQUESTED", "SHIPPED", "IN_TRANSIT"]
    assert history(b) == ["REQUESTED", "SHIPPED", "FAILED"]
    assert published(a) == [("REQUESTED", 1), ("SHIPPED", 2), ("IN_TRANSIT", 3)]
    assert published(b) == [("REQUESTED", 1), ("SHIPPED", 2), ("FAILED", 3)]
    last = OutboxEvent.objects.filter(name=EVENT, aggregate_id=str(b.id)).order_by("id").last().payload
    assert (last["order_id"], last["buyer_id"], last["tracking_number"], last["reason"]) == (
        str(b.order_id), str(b.buyer_id), "SIMB", "Nobody home")
    assert last["at"].startswith("2026-11-24T10:00:00")
    assert dict(CarrierEvent.objects.values_list("event_id", "outcome")) == {
        "evt-a1": "applied", "evt-b1": "applied", "evt-a2": "applied", "evt-unknown": "unknown_delivery",
        "evt-b2": "applied"}
    assert CarrierEvent.objects.get(event_id="evt-a2").delivery_id == a.id


def test_the_same_batch_again_changes_nothing(make_delivery, webhook):
    delivery = make_delivery()
    items = [note(delivery.id, "SHIPPED", "evt-1"), note(delivery.id, "DELIVERED", "evt-2"),
             note(uuid.uuid4(), "SHIPPED", "evt-3")]
    assert [r["outcome"] for r in send(webhook, *items).json()["results"]] == [
        "applied", "applied", "unknown_delivery"]
    outbox = OutboxEvent.objects.count()
    assert [r["outcome"] for r in send(webhook, *items).json()["results"]] == ["duplicate"] * 3
    assert OutboxEvent.objects.count() == outbox
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version) == ("DELIVERED", 3)


def test_a_step_behind_the_delivery_is_stale_but_leaves_its_tracking_number(make_delivery, webhook):
    delivery = make_delivery()
    webhook(delivery.id, "IN_TRANSIT", tracking="")
    results = send(webhook, note(delivery.id, "SHIPPED", "evt-late", tracking="SIMLATE001"),
                   note(delivery.id, "DELIVERED", "evt-done", tracking="SIMLATE001"),
                   note(delivery.id, "IN_TRANSIT", "evt-after"),
                   note(delivery.id, "FAILED", "evt-failed-after")).json()["results"]
    assert [r["outcome"] for r in results] == ["stale", "applied", "stale", "stale"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version, delivery.tracking_number) == ("DELIVERED", 3, "SIMLATE001")
    assert history(delivery) == ["REQUESTED", "IN_TRANSIT", "DELIVERED"]
    assert CarrierEvent.objects.get(event_id="evt-late").outcome == "stale"


def test_a_stale_step_alone_changes_only_a_missing_tracking_number(make_delivery, webhook):
    delivery = make_delivery()
    webhook(delivery.id, "IN_TRANSIT", tracking="")
    updated_at = Delivery.objects.get(id=delivery.id).updated_at
    assert send(webhook, note(delivery.id, "SHIPPED", "evt-late", tracking="SIMLATE002")).json()["results"] == [
        {"eventId": "evt-late", "outcome": "stale"}]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version, delivery.tracking_number) == ("IN_TRANSIT", 2, "SIMLATE002")
    assert delivery.updated_at == updated_at and published(delivery)[-1] == ("IN_TRANSIT", 2)


def test_a_batch_that_beats_the_booking_answer_ends_the_sending(make_delivery, webhook):
    delivery = make_delivery()
    Delivery.objects.filter(id=delivery.id).update(carrier_error="timed out")
    assert delivery.carrier_todo == "send"
    send(webhook, note(delivery.id, "SHIPPED", "evt-early", tracking="SIMEARLY02"))
    delivery.refresh_from_db()
    assert (delivery.carrier_todo, delivery.carrier_due_at, delivery.carrier_error) == ("", None, "")
    assert delivery.tracking_number == "SIMEARLY02"


@pytest.mark.parametrize("events", [[], "SHIPPED", {"eventId": "e"}, [{}] * (BATCH_MAX + 1)])
def test_a_batch_that_is_not_a_list_of_notifications_is_a_400(webhook, events):
    response = webhook("ignored", "ignored", body=json.dumps({"events": events}).encode())
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not CarrierEvent.objects.exists()


def test_a_batch_with_a_bad_signature_is_a_401_and_changes_nothing(make_delivery, webhook):
    delivery = make_delivery()
    body = json.dumps({"events": [note(delivery.id, "SHIPPED", "evt-x")]}).encode()
    response = webhook("ignored", "ignored", body=body, secret="not-the-shared-secret")
    assert response.status_code == 401
    delivery.refresh_from_db()
    assert delivery.version == 1 and not CarrierEvent.objects.exists()
