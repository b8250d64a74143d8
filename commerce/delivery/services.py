"""Delivery use cases that write. Each runs in one transaction (the caller's, for event
handlers) and publishes ``DeliveryStatusChanged`` for every status change it makes.

Nothing here talks to the carrier: a delivery that must be booked or cancelled at the carrier
gets a ``carrier_todo``, and ``carrier_sync.py`` does the calls outside any transaction, then
reports back through the ``carrier_work_*`` functions below.
"""
from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from commerce.delivery.carrier import Booking, CarrierUpdate
from commerce.delivery.events import DeliveryStatusChanged
from commerce.delivery.models import (
    Address,
    CarrierEvent,
    CarrierTodo,
    Delivery,
    DeliveryStatus,
    OrderCancellation,
    StatusChange,
)
from commerce.eventbus import publish, publish_many, write_and_publish
from commerce.eventbus.event import uuid7
from commerce.shared.commits import commit_without_flush
from commerce.shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)

# forward-only: a status is taken only if it ranks above the current one; DELIVERED and FAILED are final
RANK = {DeliveryStatus.REQUESTED: 0, DeliveryStatus.SHIPPED: 1, DeliveryStatus.IN_TRANSIT: 2,
        DeliveryStatus.DELIVERED: 3}
FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
SNAPSHOT_REQUIRED = ("recipient", "line1", "city", "postalCode", "country")

ADDRESS_INVALID = "ADDRESS_INVALID"
ORDER_CANCELLED = "ORDER_CANCELLED"
CARRIER_REJECTED = "CARRIER_REJECTED"


def conf(key: str):
    return settings.DELIVERY[key]


# --- addresses ------------------------------------------------------------------------------------


def address_create(*, owner_id: UUID, recipient: str, phone: str, line1: str, line2: str, city: str,
                   postal_code: str, country: str) -> Address:
    return Address.objects.create(owner_id=owner_id, recipient=recipient, phone=phone, line1=line1, line2=line2,
                                  city=city, postal_code=postal_code, country=country)


# --- status changes -------------------------------------------------------------------------------


def moves_forward(current: str, new: str) -> bool:
    if current in FINAL:
        return False
    if new == DeliveryStatus.FAILED:
        return True
    return RANK[new] > RANK[current]


def _change_status(delivery: Delivery, status: str, *, at: datetime, reason: str = "",
                   carrier_event_id: str = "") -> None:
    """Take ``status``: history row, version + 1, save, and the event, all in this transaction."""
    delivery.status = status
    delivery.version += 1
    if status == DeliveryStatus.FAILED:
        delivery.failure_reason = reason[:200]
    delivery.updated_at = timezone.now()
    delivery.save(update_fields=["status", "version", "failure_reason", "updated_at", "tracking_number",
                                 "carrier_todo", "carrier_due_at", "carrier_attempts", "carrier_error"])
    StatusChange.objects.create(delivery=delivery, status=status, at=at, reason=reason[:200],
                                carrier_event_id=carrier_event_id)
    publish(_status_event(delivery, at=at, reason=reason))


def _status_event(delivery: Delivery, *, at: datetime, reason: str = "") -> DeliveryStatusChanged:
    return DeliveryStatusChanged(
        aggregate_id=str(delivery.id), aggregate_version=delivery.version, order_id=str(delivery.order_id),
        buyer_id=str(delivery.buyer_id), status=delivery.status, tracking_number=delivery.tracking_number,
        reason=reason[:200], at=at,
    )


# --- from order events ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRequest:
    order_id: UUID
    buyer_id: UUID
    address: dict
    lines: list[dict]


def delivery_request(*, order_id: UUID, buyer_id: UUID, address: dict, lines: list[dict]) -> Delivery | None:
    """Record the delivery of a confirmed order as ``REQUESTED``, to be booked at the carrier by
    the delivery worker. A repeat for the same order, or an order already cancelled, is a no-op
    (None). An unusable address snapshot makes the delivery ``FAILED`` at once."""
    created = deliveries_request([DeliveryRequest(order_id, buyer_id, address, lines)])
    return Delivery.objects.get(id=created[0]) if created else None


_INSERT_DELIVERIES = """
WITH new AS (
  INSERT INTO delivery_delivery (id, order_id, buyer_id, address, lines, status, version, tracking_number,
                                 failure_reason, carrier_todo, carrier_due_at, carrier_attempts, carrier_error,
                                 created_at, updated_at)
  SELECT u.id, u.order_id, u.buyer_id, u.address::jsonb, u.lines::jsonb, u.status, 1, '', u.reason, u.todo,
         CASE WHEN u.todo = '' THEN NULL ELSE %(now)s END, 0, '', %(now)s, %(now)s
  FROM unnest(%(ids)s::uuid[], %(orders)s::uuid[], %(buyers)s::uuid[], %(addresses)s::text[], %(lines)s::text[],
              %(statuses)s::text[], %(reasons)s::text[], %(todos)s::text[])
       AS u(id, order_id, buyer_id, address, lines, status, reason, todo)
  WHERE NOT EXISTS (SELECT 1 FROM delivery_order_cancellation c WHERE c.order_id = u.order_id)
  ON CONFLICT (order_id) DO NOTHING
  RETURNING id, status, failure_reason
)
INSERT INTO delivery_status_change (delivery_id, status, at, reason, carrier_event_id)
SELECT id, status, %(now)s, failure_reason, '' FROM new
RETURNING delivery_id
"""


def deliveries_request(requests: list[DeliveryRequest]) -> list[UUID]:
    """``delivery_request`` for many orders at once, in the caller's transaction: one statement
    inserts the deliveries that are new (no delivery and no cancellation for their order yet)
    with their first history rows, and their events go out together. Returns the ids of the
    deliveries created. Orders must not repeat within one call."""
    if not requests:
        return []
    now = timezone.now()
    rows = []
    for request in requests:
        address = request.address if isinstance(request.address, dict) else {}
        usable = all(isinstance(address.get(key), str) and address[key].strip() for key in SNAPSHOT_REQUIRED)
        status, todo = ((DeliveryStatus.REQUESTED, CarrierTodo.SEND) if usable else (DeliveryStatus.FAILED, ""))
        reason = "" if usable else f"{ADDRESS_INVALID}: the order's address snapshot is incomplete"
        rows.append((uuid7(), request, address, status, reason, str(todo)))
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_DELIVERIES, {
            "now": now, "ids": [r[0] for r in rows], "orders": [r[1].order_id for r in rows],
            "buyers": [r[1].buyer_id for r in rows], "addresses": [json.dumps(r[2]) for r in rows],
            "lines": [json.dumps(r[1].lines) for r in rows], "statuses": [str(r[3]) for r in rows],
            "reasons": [r[4] for r in rows], "todos": [r[5] for r in rows],
        })
        created = {row[0] for row in cursor.fetchall()}
    if len(created) < len(rows):
        skipped = [r[1].order_id for r in rows if r[0] not in created]
        for order_id in OrderCancellation.objects.filter(order_id__in=skipped).values_list("order_id", flat=True):
            log.warning("delivery: order %s was cancelled before its confirmation arrived; no delivery", order_id)
    publish_many([
        DeliveryStatusChanged(aggregate_id=str(delivery_id), aggregate_version=1, order_id=str(request.order_id),
                              buyer_id=str(request.buyer_id), status=str(status), tracking_number="",
                              reason=reason, at=now)
        for delivery_id, request, _, status, reason, _ in rows if delivery_id in created
    ])
    return [r[0] for r in rows if r[0] in created]


def delivery_cancel_for_order(*, order_id: UUID, reason: str) -> str:
    """The order was cancelled. A delivery not shipped yet becomes ``FAILED`` (and is cancelled
    at the carrier if it may have reached it); one already shipped is left alone. The outcome is
    recorded either way; a repeat does nothing. Returns the outcome."""
    if OrderCancellation.objects.filter(order_id=order_id).exists():
        return "repeat"
    delivery = Delivery.objects.select_for_update().filter(order_id=order_id).first()
    now = timezone.now()
    if delivery is None:
        outcome = OrderCancellation.NO_DELIVERY
    elif delivery.status == DeliveryStatus.FAILED:
        outcome = OrderCancellation.ALREADY_FINAL
    elif delivery.status != DeliveryStatus.REQUESTED:
        outcome = OrderCancellation.TOO_LATE
        log.warning("delivery: order %s cancelled after its delivery %s was %s; ignored", order_id,
                    delivery.id, delivery.status)
    else:
        outcome = OrderCancellation.CANCELLED
        if delivery.tracking_number or delivery.carrier_attempts:
            # the booking may have reached the carrier (or be on its way right now): cancel there
            in_flight = (delivery.carrier_todo == CarrierTodo.SEND and delivery.carrier_due_at is not None
                         and delivery.carrier_due_at > now)
            delivery.carrier_todo, delivery.carrier_attempts = CarrierTodo.CANCEL, 0
            if not in_flight:  # else the booking's own outcome makes the cancel due (carrier_work_done)
                delivery.carrier_due_at = now
        else:
            delivery.carrier_todo, delivery.carrier_due_at = CarrierTodo.NOTHING, None
        _change_status(delivery, DeliveryStatus.FAILED, at=now, reason=f"{ORDER_CANCELLED}: {reason}"[:200])
    OrderCancellation.objects.create(order_id=order_id, reason=reason[:200], outcome=outcome)
    return outcome


# --- from the carrier's webhooks ------------------------------------------------------------------


_WEBHOOK_READ = ("SELECT status, version, tracking_number, order_id, buyer_id,"
                 " EXISTS (SELECT FROM delivery_carrier_event WHERE event_id = %s)"
                 " FROM delivery_delivery WHERE id = %s")
_WEBHOOK_SEEN = ("INSERT INTO delivery_carrier_event (event_id, delivery_id, status, outcome, received_at)"
                 " VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING RETURNING event_id")
# Taken only if the row is still the one read (version and tracking number); every other column it
# sets is computed from the row as it is then, so a concurrent booking answer (carrier_work_booked,
# which does not bump the version) is kept. A booking still to send is done: the carrier has it
# (a move is never to REQUESTED, which ranks lowest, so the status needs no check here).
_WEBHOOK_MOVE = (
    "UPDATE delivery_delivery SET status = %s, version = version + 1,"
    " tracking_number = CASE WHEN tracking_number = '' THEN %s ELSE tracking_number END,"
    " failure_reason = CASE WHEN %s THEN %s ELSE failure_reason END,"
    f" carrier_due_at = CASE WHEN carrier_todo = '{CarrierTodo.SEND}' THEN NULL ELSE carrier_due_at END,"
    f" carrier_error = CASE WHEN carrier_todo = '{CarrierTodo.SEND}' THEN '' ELSE carrier_error END,"
    f" carrier_todo = CASE WHEN carrier_todo = '{CarrierTodo.SEND}' THEN '{CarrierTodo.NOTHING}'"
    " ELSE carrier_todo END, updated_at = now()"
    " WHERE id = %s AND version = %s AND tracking_number = %s RETURNING id")
_WEBHOOK_MOVE_SEEN = ("INSERT INTO delivery_carrier_event (event_id, delivery_id, status, outcome, received_at)"
                      f" SELECT %s, id, %s, '{CarrierEvent.APPLIED}', now() FROM change0")
_WEBHOOK_HISTORY = ("INSERT INTO delivery_status_change (delivery_id, status, at, reason, carrier_event_id)"
                    " SELECT id, %s, %s, %s, %s FROM change0")
_WEBHOOK_TRACKING = "UPDATE delivery_delivery SET tracking_number = %s WHERE id = %s AND tracking_number = ''"


def delivery_apply_carrier_update(update: CarrierUpdate) -> str:
    """Apply one carrier notification: ``applied``, ``stale`` (it would move the delivery back, or
    the delivery is final), ``duplicate`` (this event id was seen) or ``unknown_delivery``.

    Every carrier step of every order comes through here (three or more webhooks per order), so
    it is plain SQL and needs no transaction of its own: one read (the delivery, and whether this
    event id was seen), then one statement that moves the delivery if it is still as read and in
    the same breath records the event id, the history row and ``DeliveryStatusChanged``. If the
    delivery changed in between (a concurrent copy of this event or another step), nothing was
    written and it starts over from the read; each lost race means the delivery moved, which it
    does only a few times. What it writes is what ``_change_status`` writes; the ORM version cost
    over half of the web request, and the locked transaction that replaced it five round trips."""
    try:
        delivery_id = UUID(update.shipment_key)
    except ValueError:
        delivery_id = None
    while True:
        row = None
        if delivery_id is not None:
            with connection.cursor() as cursor:
                cursor.execute(_WEBHOOK_READ, [update.event_id, delivery_id])
                row = cursor.fetchone()
        if row is None:
            outcome = _record_seen(update, None, CarrierEvent.UNKNOWN)
            if outcome == CarrierEvent.UNKNOWN:
                log.warning("delivery: carrier event %s for unknown shipment %s", update.event_id,
                            update.shipment_key)
            return outcome
        status, version, tracking, order_id, buyer_id, seen = row
        if seen:
            return "duplicate"
        if not moves_forward(status, update.status):
            outcome = _record_seen(update, delivery_id, CarrierEvent.STALE)
            if outcome == CarrierEvent.STALE and update.tracking_number and not tracking:
                with connection.cursor() as cursor:
                    cursor.execute(_WEBHOOK_TRACKING, [update.tracking_number, delivery_id])
            return outcome
        if _move(update, delivery_id, version, tracking, order_id, buyer_id):
            return CarrierEvent.APPLIED


def _record_seen(update: CarrierUpdate, delivery_id: UUID | None, outcome: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_WEBHOOK_SEEN, [update.event_id, delivery_id, update.status, outcome])
        return outcome if cursor.fetchone() is not None else "duplicate"


def _move(update: CarrierUpdate, delivery_id: UUID, version: int, tracking: str, order_id, buyer_id) -> bool:
    """The delivery takes ``update`` if it is still at ``version`` with ``tracking``: True if it did."""
    reason = update.reason[:200]
    at = update.occurred_at or timezone.now()
    event = DeliveryStatusChanged(
        aggregate_id=str(delivery_id), aggregate_version=version + 1, order_id=str(order_id),
        buyer_id=str(buyer_id), status=update.status, tracking_number=tracking or update.tracking_number,
        reason=reason, at=at)
    failed = update.status == DeliveryStatus.FAILED
    return write_and_publish(
        [_WEBHOOK_MOVE, _WEBHOOK_MOVE_SEEN, _WEBHOOK_HISTORY],
        [update.status, update.tracking_number, failed, reason, delivery_id, version, tracking,
         update.event_id, update.status,
         update.status, at, reason, update.event_id],
        [event], when=0)


# A batch of notifications (the carrier's batched webhook) in one transaction: its deliveries
# locked in id order (so two batches never deadlock; a single notification's guarded UPDATE above
# waits for the lock and then finds the row moved), the event ids seen so far, then every write as
# one statement per table. What it writes is what delivery_apply_carrier_update writes, per event.
_BATCH_LOCK = ("SELECT id, status, version, tracking_number, order_id, buyer_id, failure_reason, carrier_todo"
               " FROM delivery_delivery WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE")
_BATCH_SEEN = "SELECT event_id FROM delivery_carrier_event WHERE event_id = ANY(%s::varchar[])"
_BATCH_RECORD = (
    "INSERT INTO delivery_carrier_event (event_id, delivery_id, status, outcome, received_at)"
    " SELECT *, now() FROM unnest(%s::varchar[], %s::uuid[], %s::varchar[], %s::varchar[])"
    " ON CONFLICT DO NOTHING RETURNING event_id")
_BATCH_UPDATE = (
    "UPDATE delivery_delivery d SET status = u.status, version = u.version, tracking_number = u.tracking,"
    " failure_reason = u.failure_reason, carrier_todo = u.todo,"
    " carrier_due_at = CASE WHEN u.booked THEN NULL ELSE d.carrier_due_at END,"
    " carrier_error = CASE WHEN u.booked THEN '' ELSE d.carrier_error END,"
    " updated_at = CASE WHEN u.moved THEN now() ELSE d.updated_at END"
    " FROM unnest(%s::uuid[], %s::varchar[], %s::int[], %s::varchar[], %s::varchar[], %s::varchar[], %s::bool[],"
    " %s::bool[]) AS u(id, status, version, tracking, failure_reason, todo, booked, moved) WHERE d.id = u.id")
_BATCH_HISTORY = (
    "INSERT INTO delivery_status_change (delivery_id, status, at, reason, carrier_event_id)"
    " SELECT * FROM unnest(%s::uuid[], %s::varchar[], %s::timestamptz[], %s::varchar[], %s::varchar[])")


def _columns(rows: list[tuple]) -> list[list]:
    """Rows as one list per column: the arrays an ``unnest`` statement takes."""
    return [list(column) for column in zip(*rows, strict=True)]


class _Raced(Exception):
    """An event this batch applies was recorded meanwhile by a notification outside the batch."""


def delivery_apply_carrier_updates(updates: list[CarrierUpdate]) -> list[str]:
    """Apply a batch of carrier notifications in their order; one outcome per update, as
    ``delivery_apply_carrier_update`` answers it (a repeat within the batch is a ``duplicate``)."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return _apply_batch(updates)
        except _Raced:
            continue
    raise Conflict("The carrier's notifications kept racing with copies of themselves; send them again.")


def _apply_batch(updates: list[CarrierUpdate]) -> list[str]:
    keys: dict[str, UUID | None] = {}
    for update in updates:
        try:
            keys[update.shipment_key] = UUID(update.shipment_key)
        except ValueError:
            keys[update.shipment_key] = None
    ids = sorted({key for key in keys.values() if key is not None})
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_LOCK, [ids])
        rows = {row[0]: list(row[1:]) for row in cursor.fetchall()}
        cursor.execute(_BATCH_SEEN, [[update.event_id for update in updates]])
        seen = {row[0] for row in cursor.fetchall()}
    now = timezone.now()
    outcomes: list[str] = []
    records: list[tuple] = []  # (event_id, delivery_id, status, outcome) for delivery_carrier_event
    history: list[tuple] = []
    events: list[DeliveryStatusChanged] = []
    changed: dict[UUID, bool] = {}  # delivery id -> whether its status moved
    booked: set[UUID] = set()  # deliveries whose booking was still to send: the carrier has it
    for update in updates:
        delivery_id = keys[update.shipment_key]
        row = rows.get(delivery_id)
        if update.event_id in seen:
            outcomes.append("duplicate")
            continue
        seen.add(update.event_id)
        if row is None:
            outcome = CarrierEvent.UNKNOWN
            log.warning("delivery: carrier event %s for unknown shipment %s", update.event_id, update.shipment_key)
        elif not moves_forward(row[0], update.status):
            outcome = CarrierEvent.STALE
            if update.tracking_number and not row[2]:
                row[2] = update.tracking_number
                changed.setdefault(delivery_id, False)
        else:
            outcome = CarrierEvent.APPLIED
            status, version, tracking, order_id, buyer_id, failure_reason, todo = row
            reason = update.reason[:200]
            at = update.occurred_at or now
            row[0], row[1] = update.status, version + 1
            row[2] = tracking or update.tracking_number
            if update.status == DeliveryStatus.FAILED:
                row[5] = reason
            if todo == CarrierTodo.SEND:  # the carrier has it: the booking is done
                row[6] = CarrierTodo.NOTHING
                booked.add(delivery_id)
            changed[delivery_id] = True
            history.append((delivery_id, update.status, at, reason, update.event_id))
            events.append(DeliveryStatusChanged(
                aggregate_id=str(delivery_id), aggregate_version=version + 1, order_id=str(order_id),
                buyer_id=str(buyer_id), status=update.status, tracking_number=row[2], reason=reason, at=at))
        records.append((update.event_id, delivery_id if row is not None else None, update.status, outcome))
        outcomes.append(outcome)
    if not records:
        return outcomes
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_RECORD, _columns(records))
        recorded = {row[0] for row in cursor.fetchall()}
        for (event_id, _, _, outcome) in records:
            if event_id not in recorded:
                if outcome == CarrierEvent.APPLIED:
                    raise _Raced(event_id)
                outcomes[next(i for i, u in enumerate(updates) if u.event_id == event_id)] = "duplicate"
        if changed:
            cursor.execute(_BATCH_UPDATE, _columns([
                (key, *rows[key][:3], rows[key][5], rows[key][6], key in booked, moved)
                for key, moved in changed.items()]))
        if history:
            cursor.execute(_BATCH_HISTORY, _columns(history))
    publish_many(events)
    return outcomes


# --- staff ----------------------------------------------------------------------------------------


def delivery_resend(*, order_id: UUID) -> Delivery:
    """Book the order's delivery at the carrier again (at once, attempts reset): for a booking
    that seems stuck. Safe to repeat: the carrier is idempotent by our shipment key."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(order_id=order_id).first()
        if delivery is None:
            raise NotFound("No delivery for this order (it is created when the order is confirmed).")
        if delivery.status != DeliveryStatus.REQUESTED:
            raise Conflict(f"The delivery is {delivery.status}: there is nothing to send to the carrier.")
        delivery.carrier_todo, delivery.carrier_due_at = CarrierTodo.SEND, timezone.now()
        delivery.carrier_attempts, delivery.carrier_error = 0, ""
        delivery.save(update_fields=["carrier_todo", "carrier_due_at", "carrier_attempts", "carrier_error"])
    return delivery


# --- the carrier worker's bookkeeping ---------------------------------------------------------------


@dataclass(frozen=True)
class CarrierWork:
    delivery_id: UUID
    todo: str
    address: dict
    lines: list
    attempts: int


def carrier_work_claim(*, limit: int) -> list[CarrierWork]:
    """Claim up to ``limit`` deliveries whose carrier call is due: their due time moves past the
    lease, so no other worker takes them meanwhile; a worker that dies leaves them to be claimed
    again when the lease ends. Short transaction, no carrier call inside."""
    lease = conf("CARRIER_LEASE_SECONDS")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE delivery_delivery SET carrier_due_at = now() + make_interval(secs => %s),"
            " carrier_attempts = carrier_attempts + 1 WHERE id IN (SELECT id FROM delivery_delivery"
            " WHERE NOT (carrier_todo = '') AND carrier_due_at <= now() ORDER BY carrier_due_at LIMIT %s"
            " FOR UPDATE SKIP LOCKED) RETURNING id, carrier_todo, address, lines, carrier_attempts",
            [lease, limit],
        )
        rows = cursor.fetchall()
    return [CarrierWork(delivery_id=row[0], todo=row[1], address=_json(row[2]), lines=_json(row[3]),
                        attempts=row[4]) for row in rows]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def retry_delay(attempts: int) -> float:
    base = conf("CARRIER_RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0)
    return min(base, conf("CARRIER_RETRY_MAX_SECONDS")) * random.uniform(0.8, 1.2)


def _locked(delivery_id: UUID) -> Delivery | None:
    return Delivery.objects.select_for_update().filter(id=delivery_id).first()


def _todo_changed(delivery: Delivery, work: CarrierWork) -> bool:
    """Someone gave the delivery other carrier work while this call was out: leave it to that,
    due at once."""
    if delivery.carrier_todo == work.todo:
        return False
    if delivery.carrier_todo:
        delivery.carrier_due_at = timezone.now()
        delivery.save(update_fields=["carrier_due_at"])
    return True


_BOOKED = (
    # one statement (atomic by itself), on the values the row had before it: keep a tracking number
    # already known; if the work is still this booking, it is done, else leave the new work due now
    "UPDATE delivery_delivery SET"
    " tracking_number = CASE WHEN tracking_number = '' THEN %(tracking)s ELSE tracking_number END,"
    " carrier_due_at = CASE WHEN carrier_todo = %(todo)s THEN NULL"
    "   WHEN carrier_todo <> '' THEN now() ELSE carrier_due_at END,"
    " carrier_error = CASE WHEN carrier_todo = %(todo)s THEN '' ELSE carrier_error END,"
    " carrier_todo = CASE WHEN carrier_todo = %(todo)s THEN '' ELSE carrier_todo END"
    " WHERE id = %(id)s"
)


def carrier_work_booked(work: CarrierWork, booking: Booking) -> None:
    """The carrier took the booking: keep its tracking number and clear the work, unless the
    delivery got other work meanwhile (a cancel), which is then due at once. One UPDATE instead of
    a locked read and two saves: the carrier sync records every booking this way.

    This and the other outcomes below commit without waiting for the WAL flush: one lost in a
    database crash leaves the work claimed until its lease ends, and the call is made again under
    the same shipment key, which the carrier answers with the same shipment."""
    with transaction.atomic(), connection.cursor() as cursor:
        commit_without_flush()
        cursor.execute(_BOOKED, {"tracking": booking.tracking_number, "todo": work.todo, "id": work.delivery_id})


def carrier_work_cancelled(work: CarrierWork, *, cancelled: bool) -> None:
    with transaction.atomic():
        commit_without_flush()
        delivery = _locked(work.delivery_id)
        if delivery is None or _todo_changed(delivery, work):
            return
        delivery.carrier_todo, delivery.carrier_due_at = CarrierTodo.NOTHING, None
        delivery.carrier_error = "" if cancelled else "the carrier refused the cancellation: already on its way"
        if not cancelled:
            log.error("delivery: %s was cancelled here but the carrier had already shipped it", delivery.id)
        delivery.save(update_fields=["carrier_todo", "carrier_due_at", "carrier_error"])


def carrier_work_failed(work: CarrierWork, *, error: str) -> None:
    """The carrier could not be reached (or answered 5xx): try again after a backoff. Never
    given up on: the delivery stays ``REQUESTED`` and its work stays in the list."""
    with transaction.atomic():
        commit_without_flush()
        delivery = _locked(work.delivery_id)
        if delivery is None or _todo_changed(delivery, work):
            return
        delivery.carrier_due_at = timezone.now() + timedelta(seconds=retry_delay(delivery.carrier_attempts))
        delivery.carrier_error = error[:2000]
        delivery.save(update_fields=["carrier_due_at", "carrier_error"])


def carrier_work_rejected(work: CarrierWork, *, error: str) -> None:
    """The carrier refused the booking for good: the delivery fails."""
    with transaction.atomic():
        commit_without_flush()
        delivery = _locked(work.delivery_id)
        if delivery is None or _todo_changed(delivery, work):
            return
        delivery.carrier_todo, delivery.carrier_due_at, delivery.carrier_error = CarrierTodo.NOTHING, None, error[:2000]
        if work.todo == CarrierTodo.SEND and delivery.status == DeliveryStatus.REQUESTED:
            _change_status(delivery, DeliveryStatus.FAILED, at=timezone.now(),
                           reason=f"{CARRIER_REJECTED}: {error}"[:200])
        else:
            delivery.save(update_fields=["carrier_todo", "carrier_due_at", "carrier_error"])


def carrier_events_prune(*, older_than: timedelta | None = None, chunk: int = 10_000) -> int:
    """Delete the carrier events taken in before the retention (``DELIVERY
    ["CARRIER_EVENT_RETENTION_DAYS"]``), in chunks; returns how many. Their rows only recognise
    repeats: a repeat of a forgotten event is still refused, as stale, because the delivery has
    moved past (or is at) its status."""
    cutoff = timezone.now() - (older_than or timedelta(days=settings.DELIVERY["CARRIER_EVENT_RETENTION_DAYS"]))
    deleted = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM delivery_carrier_event WHERE event_id IN (SELECT event_id FROM"
                           " delivery_carrier_event WHERE received_at < %s LIMIT %s)", [cutoff, chunk])
            deleted += cursor.rowcount
            if cursor.rowcount < chunk:
                return deleted
