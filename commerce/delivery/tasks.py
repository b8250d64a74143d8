"""Celery entry points of delivery. Thin: the work is in carrier_sync.py.

The carrier sync calls the carrier over HTTP, so it runs on a queue of its own (``carrier_sync``,
served by its own worker in the Procfile, like the payment processor): a slow or unreachable
carrier then holds only that worker, never the processes that carry the saga's events."""
from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection, transaction

from commerce.delivery import services
from commerce.delivery.carrier_sync import carrier_sync

log = logging.getLogger(__name__)

QUEUE = "carrier_sync"


@shared_task(name="delivery.carrier_sync", ignore_result=True)
def carrier_sync_task() -> None:
    carrier_sync()


@shared_task(name="delivery.carrier_events_prune", ignore_result=True)
def carrier_events_prune_task() -> int:
    return services.carrier_events_prune()


def _send_kick() -> None:
    try:
        carrier_sync_task.apply_async(queue=QUEUE, retry=False, expires=60)
    except Exception as exc:  # the broker is away: beat's periodic run picks the work up
        log.warning("delivery: could not kick the carrier sync (%s); the periodic run will", exc)


def kick_carrier_sync_after_commit() -> None:
    """Ask for a carrier sync run once the current transaction commits (one kick per transaction)."""
    if not any(func is _send_kick for _, func, _ in connection.run_on_commit):
        transaction.on_commit(_send_kick, robust=True)
