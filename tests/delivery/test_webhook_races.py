"""Carrier notifications that race: copies of one event, several steps at once, and a booking
answer landing between a notification's read and its write. Real concurrent requests, each on
its own database connection; the webhook takes no lock, so the delivery's version decides."""
import json
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from commerce.delivery import services
from commerce.delivery.carrier import SIGNATURE_HEADER, Booking, signature
from commerce.delivery.models import CarrierEvent, Delivery, StatusChange
from commerce.eventbus.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)


def signed_post(client, delivery_id, status, event_id, tracking="SIMRACE0001"):
    raw = json.dumps({"eventId": event_id, "type": "shipment.status_changed", "trackingNumber": tracking,
                      "shipmentKey": str(delivery_id), "status": status, "occurredAt": "2026-11-24T10:00:00Z",
                      "reason": ""}).encode()
    sig = signature(settings.DELIVERY["CARRIER_WEBHOOK_SECRET"], raw)
    return client.post("/delivery/carrier-webhook", data=raw, content_type="application/json",
                       headers={SIGNATURE_HEADER: sig})


def post_all_at_once(delivery_id, notifications):
    """Post every (status, event id) in its own thread, all released together; the outcomes."""
    from rest_framework.test import APIClient

    barrier, outcomes, errors = threading.Barrier(len(notifications)), [], []

    def post(status, event_id):
        try:
            client = APIClient()
            barrier.wait()
            response = signed_post(client, delivery_id, status, event_id)
            assert response.status_code == 200, response.content
            outcomes.append((event_id, response.json()["outcome"]))
        except Exception as exc:  # noqa: BLE001 - reported below, on the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=n) for n in notifications]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return outcomes


def published(delivery):
    return [(row.payload["status"], row.aggregate_version) for row in
            OutboxEvent.objects.filter(name="delivery.status_changed", aggregate_id=str(delivery.id)).order_by("id")]


def history(delivery):
    return list(StatusChange.objects.filter(delivery_id=delivery.id).order_by("id").values_list("status", flat=True))


def test_copies_of_one_notification_at_once_move_the_delivery_once(make_delivery):
    delivery = make_delivery()
    outcomes = post_all_at_once(delivery.id, [("SHIPPED", "evt-race-1")] * 8)
    assert Counter(outcome for _, outcome in outcomes) == {"applied": 1, "duplicate": 7}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version, delivery.tracking_number) == ("SHIPPED", 2, "SIMRACE0001")
    assert history(delivery) == ["REQUESTED", "SHIPPED"]
    assert published(delivery) == [("REQUESTED", 1), ("SHIPPED", 2)]
    assert CarrierEvent.objects.get(event_id="evt-race-1").outcome == "applied"


def test_all_steps_at_once_end_delivered_with_one_version_per_change(make_delivery):
    delivery = make_delivery()
    steps = [(status, f"evt-{status}") for status in ("SHIPPED", "IN_TRANSIT", "DELIVERED")]
    outcomes = post_all_at_once(delivery.id, steps * 3)
    by_event = {event_id: Counter(o for e, o in outcomes if e == event_id) for _, event_id in steps}
    for counts in by_event.values():  # each event taken in once: applied or stale, the copies duplicates
        assert counts["duplicate"] == 2 and counts["applied"] + counts["stale"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "DELIVERED"
    applied = [status for status, event_id in steps if by_event[event_id]["applied"]]
    assert "DELIVERED" in applied
    # every applied step has exactly one history row and one event, versions 2, 3... in order
    assert sorted(history(delivery)[1:]) == sorted(applied)
    assert [v for _, v in published(delivery)] == list(range(1, len(applied) + 2))
    assert delivery.version == len(applied) + 1
    assert {s for s, _ in published(delivery)[1:]} == set(applied)


def test_a_booking_answer_between_the_read_and_the_write_is_kept(make_delivery, monkeypatch):
    delivery = make_delivery()
    real_move, calls = services._move, []

    def move_after_a_booking_answer(update, delivery_id, *args):
        calls.append(args)
        if len(calls) == 1:  # the worker records the carrier's answer on its own connection
            def booked():
                work = services.CarrierWork(delivery_id=delivery_id, todo="send", address={}, lines=[], attempts=1)
                services.carrier_work_booked(work, Booking(tracking_number="SIMBOOKED01", status="ACCEPTED"))
                connection.close()
            worker = threading.Thread(target=booked)
            worker.start()
            worker.join()
        return real_move(update, delivery_id, *args)

    monkeypatch.setattr(services, "_move", move_after_a_booking_answer)
    update = services.CarrierUpdate(event_id="evt-booked", shipment_key=str(delivery.id), tracking_number="",
                                    status="SHIPPED", occurred_at=None, reason="")
    assert services.delivery_apply_carrier_update(update) == "applied"
    assert len(calls) == 2  # the first write found the row changed and was retried on a fresh read
    delivery.refresh_from_db()
    assert (delivery.status, delivery.tracking_number, delivery.carrier_todo) == ("SHIPPED", "SIMBOOKED01", "")
    shipped = OutboxEvent.objects.filter(name="delivery.status_changed").order_by("id").last().payload
    assert shipped["tracking_number"] == "SIMBOOKED01"
    assert Delivery.objects.get(id=delivery.id).version == 2 and history(delivery) == ["REQUESTED", "SHIPPED"]


def test_copies_in_batches_and_alone_at_once_move_each_delivery_once(make_delivery):
    """The carrier sends an event again in another batch, or on its own, while the first is being taken in."""
    from rest_framework.test import APIClient

    first, second = make_delivery(), make_delivery()

    def item(delivery, status):
        return {"eventId": f"evt-{delivery.id}-{status}", "type": "shipment.status_changed",
                "trackingNumber": "SIMRACE0002", "shipmentKey": str(delivery.id), "status": status,
                "occurredAt": "2026-11-24T10:00:00Z", "reason": ""}

    batch = json.dumps({"events": [item(first, "SHIPPED"), item(second, "SHIPPED"), item(first, "IN_TRANSIT")]})
    reversed_batch = json.dumps({"events": [item(second, "SHIPPED"), item(first, "IN_TRANSIT"),
                                            item(first, "SHIPPED")]})
    alone = json.dumps(item(first, "SHIPPED"))
    bodies = [batch.encode(), reversed_batch.encode(), alone.encode()] * 3
    barrier, outcomes, errors = threading.Barrier(len(bodies)), Counter(), []

    def post(raw):
        try:
            client = APIClient()
            barrier.wait()
            response = client.post("/delivery/carrier-webhook", data=raw, content_type="application/json",
                                   headers={SIGNATURE_HEADER: signature(settings.DELIVERY["CARRIER_WEBHOOK_SECRET"],
                                                                        raw)})
            assert response.status_code == 200, response.content
            data = response.json()
            for result in data.get("results", [data]):
                outcomes[(result["eventId"], result["outcome"])] += 1
        except Exception as exc:  # noqa: BLE001 - reported below, on the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(raw,)) for raw in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for event_id in (f"evt-{first.id}-SHIPPED", f"evt-{first.id}-IN_TRANSIT", f"evt-{second.id}-SHIPPED"):
        taken = {o: n for (e, o), n in outcomes.items() if e == event_id and o != "duplicate"}
        assert sum(taken.values()) == 1, (event_id, outcomes)  # applied (or stale) exactly once
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.status, second.version) == ("SHIPPED", 2)
    assert first.status == "IN_TRANSIT"
    # one version, one history row and one event per status the delivery took
    assert [v for _, v in published(first)] == list(range(1, first.version + 1))
    assert len(history(first)) == first.version
    assert published(second) == [("REQUESTED", 1), ("SHIPPED", 2)]
