"""The outbound side: book and cancel shipments at the carrier, outside any database transaction.

A run claims due work (``services.carrier_work_claim``, a short transaction), calls the carrier
for each item with the adapter's timeouts, and records each outcome in its own short transaction.
When the carrier is unavailable, the rest of the claimed batch is not tried (it would only wait
for the same timeouts) and every item gets a backoff; nothing is dropped, and a booking that did
reach the carrier before a timeout is found again by its shipment key (the delivery id).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings

from commerce.delivery import services
from commerce.delivery.carrier import CarrierRejected, CarrierUnavailable, carrier
from commerce.delivery.models import CarrierTodo

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    booked: int = 0
    cancelled: int = 0
    rejected: int = 0
    failed: int = 0


def carrier_sync(*, max_seconds: float | None = None) -> SyncResult:
    """Work through due carrier calls until none is due, the carrier is unavailable, or the time
    budget is spent."""
    conf = settings.DELIVERY
    budget = conf["CARRIER_SYNC_MAX_SECONDS"] if max_seconds is None else max_seconds
    started = time.monotonic()
    result = SyncResult()
    adapter = carrier()
    while time.monotonic() - started < budget:
        batch = services.carrier_work_claim(limit=conf["CARRIER_SYNC_BATCH"])
        if not batch:
            break
        for index, work in enumerate(batch):
            try:
                if work.todo == CarrierTodo.SEND:
                    booking = adapter.book_shipment(shipment_key=str(work.delivery_id), address=work.address,
                                                    lines=work.lines)
                    services.carrier_work_booked(work, booking)
                    result.booked += 1
                else:
                    done = adapter.cancel_shipment(shipment_key=str(work.delivery_id))
                    services.carrier_work_cancelled(work, cancelled=done)
                    result.cancelled += 1
            except CarrierUnavailable as exc:
                log.warning("delivery: carrier unavailable (%s); %d calls wait for their backoff",
                            exc, len(batch) - index)
                for waiting in batch[index:]:
                    services.carrier_work_failed(waiting, error=str(exc))
                result.failed += len(batch) - index
                return result
            except CarrierRejected as exc:
                log.error("delivery: carrier rejected %s of %s: %s", work.todo, work.delivery_id, exc)
                services.carrier_work_rejected(work, error=str(exc))
                result.rejected += 1
        if len(batch) < conf["CARRIER_SYNC_BATCH"]:
            break
    return result
