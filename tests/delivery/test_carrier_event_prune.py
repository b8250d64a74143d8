"""Carrier event ids are kept for DELIVERY["CARRIER_EVENT_RETENTION_DAYS"] and then deleted
(hourly, task delivery.carrier_events_prune); a repeat of a forgotten event still changes nothing."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from commerce.delivery import services, tasks
from commerce.delivery.models import CarrierEvent, StatusChange

pytestmark = pytest.mark.django_db


def age(event_id: str, days: float) -> None:
    CarrierEvent.objects.filter(event_id=event_id).update(received_at=timezone.now() - timedelta(days=days))


def test_events_older_than_the_retention_are_deleted_and_younger_ones_kept(make_delivery, webhook):
    delivery = make_delivery()
    assert webhook(delivery.id, "SHIPPED", event_id="old").json()["outcome"] == "applied"
    assert webhook(delivery.id, "IN_TRANSIT", event_id="young").json()["outcome"] == "applied"
    retention = settings.DELIVERY["CARRIER_EVENT_RETENTION_DAYS"]
    age("old", retention + 1)
    age("young", retention - 1)

    assert tasks.carrier_events_prune_task() == 1

    assert list(CarrierEvent.objects.values_list("event_id", flat=True)) == ["young"]


def test_pruning_works_in_chunks(make_delivery, webhook):
    delivery = make_delivery()
    for n, status in enumerate(["SHIPPED", "IN_TRANSIT", "DELIVERED"]):
        webhook(delivery.id, status, event_id=f"e{n}")
        age(f"e{n}", 60)

    assert services.carrier_events_prune(older_than=timedelta(days=1), chunk=2) == 3
    assert not CarrierEvent.objects.exists()


def test_a_repeat_of_a_forgotten_event_changes_nothing(make_delivery, webhook):
    delivery = make_delivery()
    webhook(delivery.id, "SHIPPED", event_id="evt-1")
    age("evt-1", 365)
    services.carrier_events_prune()

    response = webhook(delivery.id, "SHIPPED", event_id="evt-1")

    assert response.json()["outcome"] == "stale"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.version) == ("SHIPPED", 2)
    assert StatusChange.objects.filter(delivery_id=delivery.id).count() == 2


def test_beat_runs_the_prune_hourly_on_the_delivery_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["delivery-carrier-events-prune"]
    assert (entry["task"], entry["schedule"], entry["options"]["queue"]) == (
        tasks.carrier_events_prune_task.name, 3600.0, "delivery")
