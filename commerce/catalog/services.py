"""Catalog use cases that write: products (through the product store) and stock (PostgreSQL).

Product writes follow "outbox first": one PostgreSQL transaction bumps the product's version and
publishes ``ProductChanged`` with the whole document. A store inside PostgreSQL is written in that
same transaction; any other store is written after the commit (never before: a rolled-back
version must not reach it). A crash in between is repaired by the catalog's own handler of the
event, which writes the document again; stores keep the highest version, so the order of writes
never matters.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce.catalog.events import (
    ProductChanged,
    ReservedLine,
    StockAvailabilityChanged,
    StockReservationFailed,
    StockReserved,
)
from commerce.catalog.models import OrderStock, Product, Reservation, Stock, StockMovement, StockRequest
from commerce.catalog.rules import STOCK_MAX
from commerce.catalog.selectors import StockLevel
from commerce.catalog.store import ProductDoc, product_store
from commerce.eventbus import DomainEvent, publish, publish_many
from commerce.orders.events import OrderCancelled, OrderCompleted, OrderFailed, OrderPlaced
from commerce.shared.bulk import bulk_insert
from commerce.shared.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

log = logging.getLogger(__name__)

# benchmarks set this to observe how long reservations wait for stock row locks (seconds)
lock_wait_observer: Callable[[float], None] | None = None


def product_changed_event(doc: ProductDoc) -> ProductChanged:
    return ProductChanged(
        aggregate_id=str(doc.product_id), aggregate_version=doc.version, seller_id=str(doc.seller_id),
        product_name=doc.name, description=doc.description, price=doc.price, currency=doc.currency,
        category=doc.category, attributes=doc.attributes, active=doc.active,
        created_at=doc.created_at, updated_at=doc.updated_at,
    )


def doc_from_event(event: ProductChanged) -> ProductDoc:
    return ProductDoc(
        product_id=UUID(event.aggregate_id), seller_id=UUID(event.seller_id), name=event.product_name,
        description=event.description, price=event.price, currency=event.currency, category=event.category,
        attributes=event.attributes, active=event.active, version=event.aggregate_version,
        created_at=event.created_at, updated_at=event.updated_at,
    )


def _availability_event(stock: Stock) -> StockAvailabilityChanged:
    return StockAvailabilityChanged(
        aggregate_id=str(stock.product_id), aggregate_version=stock.version, seller_id=str(stock.seller_id),
        in_stock=stock.available > 0, available=stock.available,
    )


def _money(price) -> Decimal:
    """Two decimal places, whatever store keeps it (PostgreSQL numeric(14,2) would, Cassandra not)."""
    return Decimal(price).quantize(Decimal("0.01"))


def product_create(*, seller_id: UUID, name: str, description: str, price: Decimal, currency: str,
                   category: str, attributes: dict, stock: int = 0) -> ProductDoc:
    now = timezone.now()
    doc = ProductDoc(
        product_id=uuid.uuid4(), seller_id=seller_id, name=name, description=description, price=_money(price),
        currency=currency, category=category, attributes=attributes, version=1, created_at=now, updated_at=now,
    )
    with transaction.atomic():
        Product.objects.create(id=doc.product_id, seller_id=seller_id, version=1, created_at=now, name=doc.name,
                               price=doc.price, currency=doc.currency, active=True)
        row = Stock.objects.create(product_id=doc.product_id, seller_id=seller_id, on_hand=stock, version=1)
        if stock:
            StockMovement.objects.create(product_id=doc.product_id, kind=StockMovement.ADJUST, on_hand_delta=stock,
                                         reason="initial stock", actor_id=seller_id)
        publish(product_changed_event(doc))
        publish(_availability_event(row))
        _store_document(doc)
    return doc


def product_update(*, product_id: UUID, actor_id: UUID, name: str, description: str, price: Decimal,
                   currency: str, category: str, attributes: dict, active: bool = True) -> ProductDoc:
    with transaction.atomic():
        head = Product.objects.select_for_update().filter(id=product_id).first()
        if head is None:
            raise NotFound("No such product.")
        if head.seller_id != actor_id:
            raise PermissionDenied("Only the product's seller may change it.")
        head.version += 1
        doc = ProductDoc(
            product_id=head.id, seller_id=head.seller_id, name=name, description=description, price=_money(price),
            currency=currency, category=category, attributes=attributes, active=active, version=head.version,
            created_at=head.created_at, updated_at=timezone.now(),
        )
        head.name, head.price, head.currency, head.active = doc.name, doc.price, doc.currency, doc.active
        head.save(update_fields=["version", "name", "price", "currency", "active"])
        publish(product_changed_event(doc))
        _store_document(doc)
    return doc


def _store_document(doc: ProductDoc) -> None:
    """In the transaction for a PostgreSQL store; after the commit for any other."""
    store = product_store()
    if store.transactional:
        store.put(doc)
    else:
        transaction.on_commit(lambda: store.put(doc), robust=True)


def product_document_apply(event: ProductChanged) -> None:
    """Write the event's document to the store (a no-op if the store holds it or a newer one)."""
    product_store().put(doc_from_event(event))


def _request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def stock_change(*, product_id: UUID, actor_id: UUID, delta: int, reason: str,
                 idempotency_key: str | None = None) -> StockLevel:
    """Add ``delta`` to the on-hand stock (negative takes away). Refused if available would go
    below zero. With an ``idempotency_key``, a repeat answers the first result again."""
    body_hash = _request_hash({"productId": str(product_id), "delta": delta, "reason": reason})
    if idempotency_key:
        earlier = _earlier_request(actor_id, idempotency_key, body_hash)
        if earlier is not None:
            return earlier
    try:
        with transaction.atomic():
            stock = Stock.objects.select_for_update().filter(product_id=product_id).first()
            if stock is None:
                raise NotFound("No such product.")
            if stock.seller_id != actor_id:
                raise PermissionDenied("Only the product's seller may change its stock.")
            was_in_stock = stock.available > 0
            if stock.available + delta < 0:
                raise Conflict(f"Available stock is {stock.available}; a change of {delta} would make it negative.")
            if stock.on_hand + delta > STOCK_MAX:
                raise ValidationFailed({"delta": [f"Stock on hand may not exceed {STOCK_MAX}."]})
            stock.on_hand += delta
            stock.version += 1
            stock.updated_at = timezone.now()
            stock.save(update_fields=["on_hand", "version", "updated_at"])
            StockMovement.objects.create(product_id=product_id, kind=StockMovement.ADJUST, on_hand_delta=delta,
                                         reason=reason, actor_id=actor_id, request_key=idempotency_key or "")
            if was_in_stock != (stock.available > 0):
                publish(_availability_event(stock))
            level = StockLevel(product_id, stock.available, stock.reserved)
            if idempotency_key:
                StockRequest.objects.create(member_id=actor_id, key=idempotency_key, body_hash=body_hash,
                                            response=_level_json(level))
    except IntegrityError:
        # the same key, raced by a concurrent request that committed first: answer like a repeat
        earlier = _earlier_request(actor_id, idempotency_key, body_hash) if idempotency_key else None
        if earlier is None:
            raise
        return earlier
    return level


def _level_json(level: StockLevel) -> dict:
    return {"productId": str(level.product_id), "available": level.available, "reserved": level.reserved}


def _earlier_request(member_id: UUID, key: str, body_hash: str) -> StockLevel | None:
    earlier = StockRequest.objects.filter(member_id=member_id, key=key).first()
    if earlier is None:
        return None
    if earlier.body_hash != body_hash:
        raise Conflict("This Idempotency-Key was used with a different request body.")
    response = earlier.response
    return StockLevel(UUID(response["productId"]), response["available"], response["reserved"])


# --- stock held by orders, driven by order events ------------------------------------------------


def order_stock_apply(events: Sequence[DomainEvent]) -> None:
    """Apply a batch of order events (in publish order) to stock, in the caller's transaction.

    All stock rows the batch touches are locked in one statement, in product-id order, so two
    batches never deadlock; each order is then reserved whole or not at all. Every effect is
    keyed by order: an ``OrderStock`` row says what the order holds, so a repeated event does
    nothing and a release that arrives before its reservation leaves a ``RELEASED`` marker that
    makes the late reservation a no-op.
    """
    order_ids = sorted({UUID(e.aggregate_id) for e in events})
    with transaction.atomic():
        states = {s.order_id: s for s in OrderStock.objects.select_for_update().filter(order_id__in=order_ids)
                  .order_by("order_id")}
        held = [oid for oid, s in states.items() if s.status == OrderStock.RESERVED]
        reservations: dict[UUID, list[Reservation]] = {}
        for reservation in Reservation.objects.filter(order_id__in=held):
            reservations.setdefault(reservation.order_id, []).append(reservation)
        product_ids = {UUID(line.product_id) for e in events if isinstance(e, OrderPlaced)
                       for line in e.lines if _is_uuid(line.product_id)}
        product_ids |= {r.product_id for rs in reservations.values() for r in rs}
        stocks = _lock_stocks(product_ids)
        was_in_stock = {pid: s.available > 0 for pid, s in stocks.items()}

        outgoing: list[DomainEvent] = []
        changed_states: dict[UUID, OrderStock] = {}
        new_states: dict[UUID, OrderStock] = {}
        new_reservations: list[Reservation] = []
        movements: list[StockMovement] = []
        touched: set[UUID] = set()
        for event in events:
            order_id = UUID(event.aggregate_id)
            state = states.get(order_id)
            if isinstance(event, OrderPlaced):
                if state is not None:
                    continue  # already reserved or refused, or released before it got here
                state = _reserve(event, order_id, stocks, new_reservations, reservations, movements, touched,
                                 outgoing)
                states[order_id] = new_states[order_id] = state
            elif isinstance(event, OrderCancelled | OrderFailed):
                if state is None:
                    states[order_id] = new_states[order_id] = OrderStock(order_id=order_id,
                                                                         status=OrderStock.RELEASED)
                elif state.status == OrderStock.RESERVED:
                    for r in reservations.get(order_id, []):
                        _move(stocks[r.product_id], 0, -r.quantity, StockMovement.RELEASE, order_id, movements,
                              touched, event.name)
                    state.status = OrderStock.RELEASED
                    changed_states[order_id] = state
            elif isinstance(event, OrderCompleted):
                if state is not None and state.status == OrderStock.RESERVED:
                    for r in reservations.get(order_id, []):
                        _move(stocks[r.product_id], -r.quantity, -r.quantity, StockMovement.SELL, order_id,
                              movements, touched, event.name)
                    state.status = OrderStock.SOLD
                    changed_states[order_id] = state
                else:
                    log.warning("catalog: order %s completed while its stock is %s; ignored", order_id,
                                state.status if state else "unknown")

        for pid in touched:
            stocks[pid].version += 1
        _write_stocks([stocks[pid] for pid in sorted(touched)])
        bulk_insert(list(new_states.values()))
        _write_order_states([s for oid, s in changed_states.items() if oid not in new_states])
        bulk_insert(new_reservations)
        bulk_insert(movements)
        outgoing += [_availability_event(stocks[pid]) for pid in sorted(touched)
                     if was_in_stock[pid] != (stocks[pid].available > 0)]
        publish_many(outgoing)


def _write_stocks(stocks: list[Stock]) -> None:
    """One UPDATE for every changed stock row of a batch."""
    if not stocks:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_stock s SET on_hand = v.on_hand, reserved = v.reserved, version = v.version,"
            " updated_at = now() FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::bigint[])"
            " AS v(product_id, on_hand, reserved, version) WHERE s.product_id = v.product_id",
            [[s.product_id for s in stocks], [s.on_hand for s in stocks], [s.reserved for s in stocks],
             [s.version for s in stocks]],
        )


def _write_order_states(states: list[OrderStock]) -> None:
    """One UPDATE for every order whose stock was released or sold (``bulk_update`` built a CASE
    per row through the ORM: a quarter of this handler's time once orders complete)."""
    if not states:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_order_stock o SET status = v.status, updated_at = now()"
            " FROM unnest(%s::uuid[], %s::varchar[]) AS v(order_id, status) WHERE o.order_id = v.order_id",
            [[s.order_id for s in states], [s.status for s in states]],
        )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (TypeError, ValueError):
        return False
    return True


def _lock_stocks(product_ids: set[UUID]) -> dict[UUID, Stock]:
    if not product_ids:
        return {}
    started = time.perf_counter()
    rows = list(Stock.objects.select_for_update().filter(product_id__in=product_ids).order_by("product_id"))
    if lock_wait_observer is not None:
        lock_wait_observer(time.perf_counter() - started)
    return {row.product_id: row for row in rows}


def _reserve(event: OrderPlaced, order_id: UUID, stocks: dict[UUID, Stock], new_reservations: list,
             reservations: dict, movements: list, touched: set, outgoing: list) -> OrderStock:
    wanted: dict[str, int] = {}
    for line in event.lines:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    for product_id, quantity in wanted.items():
        stock = stocks.get(UUID(product_id)) if _is_uuid(product_id) else None
        available = stock.available if stock else 0
        if quantity <= 0 or available < quantity:
            outgoing.append(StockReservationFailed(aggregate_id=str(order_id), product_id=product_id,
                                                   requested=quantity, available=available))
            return OrderStock(order_id=order_id, status=OrderStock.REJECTED,
                              short_product_id=UUID(product_id) if _is_uuid(product_id) else None)
    lines = []
    for product_id, quantity in wanted.items():
        stock = stocks[UUID(product_id)]
        _move(stock, 0, quantity, StockMovement.RESERVE, order_id, movements, touched, event.name)
        reservation = Reservation(order_id=order_id, product_id=stock.product_id, quantity=quantity)
        new_reservations.append(reservation)
        reservations.setdefault(order_id, []).append(reservation)
        lines.append(ReservedLine(product_id=product_id, quantity=quantity))
    outgoing.append(StockReserved(aggregate_id=str(order_id), lines=tuple(lines)))
    return OrderStock(order_id=order_id, status=OrderStock.RESERVED)


def _move(stock: Stock, on_hand_delta: int, reserved_delta: int, kind: str, order_id: UUID,
          movements: list, touched: set, reason: str) -> None:
    stock.on_hand += on_hand_delta
    stock.reserved += reserved_delta
    touched.add(stock.product_id)
    movements.append(StockMovement(product_id=stock.product_id, kind=kind, on_hand_delta=on_hand_delta,
                                   reserved_delta=reserved_delta, order_id=order_id, reason=reason))
