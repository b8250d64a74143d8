"""The carrier sync waits on the carrier, so it runs on a queue of its own, served by a worker of
its own (with delivery tracking): never by the worker that carries the saga's events."""
import json
from pathlib import Path

import redis
from django.conf import settings

from commerce.delivery import tasks

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def _queues_of(entry: str) -> set[str]:
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if name == entry:
            words = command.split()
            return set(words[words.index("-Q") + 1].split(","))
    raise AssertionError(f"no {entry} in the Procfile")


def test_the_kick_and_beat_send_the_carrier_sync_to_its_own_queue():
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("carrier_sync")

    tasks._send_kick()

    messages = broker.lrange("carrier_sync", 0, -1)
    assert len(messages) == 1
    assert json.loads(messages[0])["headers"]["task"] == "delivery.carrier_sync"
    entry = settings.CELERY_BEAT_SCHEDULE["delivery-carrier-sync"]
    assert (entry["task"], entry["options"]["queue"]) == ("delivery.carrier_sync", "carrier_sync")
    broker.delete("carrier_sync")


def test_the_procfile_gives_the_carrier_sync_and_tracking_a_worker_of_their_own():
    from commerce.eventbus.subscriptions import handler_named

    assert _queues_of("shipping") == {"carrier_sync", "delivery", "tracking"}
    assert not _queues_of("shipping") & _queues_of("worker")
    # what the saga waits on stays with the bus; what follows a confirmation goes to shipping
    for name in ("catalog.order_stock", "orders.saga", "payments.order_payment"):
        assert handler_named(name).queue in _queues_of("worker"), name
    for name in ("delivery.order_events", "orders.delivery"):
        assert handler_named(name).queue in _queues_of("shipping"), name
