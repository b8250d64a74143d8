"""The order's state machine: how each event of the other contexts moves an order on.

``apply(order, event, now)`` changes the (locked) order in memory and returns the events to
publish; it touches no database, so every transition is testable on its own. An event that does
not fit the order's state (a duplicate, a stale delivery update, an answer for an order that has
already failed) changes nothing and is logged, never raised: the bus would only retry it.

    PENDING --StockReserved--> PENDING (payment requested)
            --StockReservationFailed--> FAILED OUT_OF_STOCK
            --PaymentApproved--> CONFIRMED --DeliveryStatusChanged(DELIVERED)--> COMPLETED
            --PaymentDeclined--> FAILED PAYMENT_DECLINED (stock released)
            --PaymentFailed--> FAILED PAYMENT_FAILED (stock released)
    CONFIRMED --DeliveryStatusChanged(FAILED)--> FAILED DELIVERY_FAILED (stock released, refunded)

An approval that reaches an order that is no longer waiting for it (cancelled, failed, or paid
already by another attempt) asks for that money back. Stock is released by the catalog when it
sees ``OrderFailed``/``OrderCancelled``: orders never touch stock.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from commerce.catalog.events import StockReservationFailed, StockReserved
from commerce.delivery.events import DeliveryStatusChanged
from commerce.eventbus import DomainEvent
from commerce.orders.events import (
    OrderCancelled,
    OrderCompleted,
    OrderConfirmed,
    OrderFailed,
    OrderLine,
    OrderPaymentRequested,
    OrderPlaced,
    OrderRefundRequested,
)
from commerce.orders.models import Order
from commerce.payments.events import PaymentApproved, PaymentDeclined, PaymentFailed, PaymentRefunded

log = logging.getLogger(__name__)

OUT_OF_STOCK = "OUT_OF_STOCK"
PAYMENT_DECLINED = "PAYMENT_DECLINED"
PAYMENT_FAILED = "PAYMENT_FAILED"
DELIVERY_FAILED = "DELIVERY_FAILED"
CANCELLABLE_DELIVERY = frozenset({"", "REQUESTED"})  # not handed to the carrier's driver yet

SAGA_EVENTS = (StockReserved, StockReservationFailed, PaymentApproved, PaymentDeclined, PaymentFailed,
               PaymentRefunded, DeliveryStatusChanged)


def order_id_of(event: DomainEvent) -> str:
    """Which order an incoming event is about."""
    if isinstance(event, StockReserved | StockReservationFailed):
        return event.aggregate_id
    return event.order_id


def _lines(order: Order) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(product_id=i["productId"], quantity=i["quantity"]) for i in order.items)


def _bump(order: Order, now: datetime) -> None:
    order.version += 1
    order.updated_at = now


def placed_event(order: Order) -> OrderPlaced:
    return OrderPlaced(aggregate_id=str(order.id), aggregate_version=order.version, buyer_id=str(order.buyer_id),
                       lines=_lines(order))


def payment_request_event(order: Order) -> OrderPaymentRequested:
    return OrderPaymentRequested(aggregate_id=str(order.id), aggregate_version=order.version,
                                 buyer_id=str(order.buyer_id), payment_method_id=order.payment_method_id,
                                 amount=order.total, currency=order.currency)


def _fail(order: Order, reason: str, now: datetime) -> list[DomainEvent]:
    order.status = Order.FAILED
    order.failure_reason = reason
    order.deadline_at = None
    _bump(order, now)
    out: list[DomainEvent] = [OrderFailed(aggregate_id=str(order.id), aggregate_version=order.version,
                                          reason=reason)]
    if order.payment_status == "APPROVED" and order.payment_id:
        out.append(_refund(order, reason))
    return out


def _refund(order: Order, reason: str, payment_id: str | None = None) -> OrderRefundRequested:
    return OrderRefundRequested(aggregate_id=str(order.id), aggregate_version=order.version,
                                payment_id=payment_id or order.payment_id, reason=reason)


def _ignore(order: Order, event: DomainEvent, why: str) -> list[DomainEvent]:
    log.info("orders: %s for order %s (%s) ignored: %s", event.name, order.id, order.status, why)
    return []


def apply(order: Order, event: DomainEvent, now: datetime) -> list[DomainEvent]:
    if isinstance(event, StockReserved):
        if order.status != Order.PENDING or order.stock_status:
            return _ignore(order, event, "not waiting for stock")
        order.stock_status = Order.STOCK_RESERVED
        order.payment_status = "PENDING"
        order.deadline_at = now + timedelta(seconds=settings.ORDERS["PAYMENT_DEADLINE_SECONDS"])
        order.stall_retries = 0
        _bump(order, now)
        return [payment_request_event(order)]

    if isinstance(event, StockReservationFailed):
        if order.status != Order.PENDING or order.stock_status:
            return _ignore(order, event, "not waiting for stock")
        order.stock_status = Order.STOCK_REJECTED
        return _fail(order, OUT_OF_STOCK, now)

    if isinstance(event, PaymentApproved):
        payment_id = event.aggregate_id
        if order.status == Order.PENDING and order.stock_status == Order.STOCK_RESERVED:
            order.status = Order.CONFIRMED
            order.payment_id, order.payment_status = payment_id, "APPROVED"
            order.deadline_at = None
            _bump(order, now)
            return [OrderConfirmed(aggregate_id=str(order.id), aggregate_version=order.version,
                                   buyer_id=str(order.buyer_id), address_id=order.address_id, address=order.address,
                                   lines=_lines(order))]
        if order.payment_id == payment_id and order.payment_status in ("APPROVED", "REFUNDED"):
            return _ignore(order, event, "already recorded")
        # Money arrived for an order that no longer wants it: give it back.
        log.warning("orders: payment %s approved for order %s that is %s: refund requested", payment_id, order.id,
                    order.status)
        return [_refund(order, f"order {order.status.lower()}", payment_id)]

    if isinstance(event, PaymentDeclined | PaymentFailed):
        payment_id = event.aggregate_id
        if order.status != Order.PENDING or order.stock_status != Order.STOCK_RESERVED:
            return _ignore(order, event, "not waiting for payment")
        order.payment_id = payment_id
        if isinstance(event, PaymentDeclined):
            order.payment_status = "DECLINED"
            return _fail(order, PAYMENT_DECLINED, now)
        order.payment_status = "FAILED"
        return _fail(order, PAYMENT_FAILED, now)

    if isinstance(event, PaymentRefunded):
        if order.payment_id != event.aggregate_id:
            return _ignore(order, event, "not the order's payment")
        order.payment_status = "REFUNDED"
        _bump(order, now)
        return []

    if isinstance(event, DeliveryStatusChanged):
        if order.delivery_id == event.aggregate_id and event.aggregate_version <= order.delivery_version:
            return _ignore(order, event, f"stale (version {event.aggregate_version} <= {order.delivery_version})")
        if order.delivery_id and order.delivery_id != event.aggregate_id:
            return _ignore(order, event, f"the order's delivery is {order.delivery_id}")
        order.delivery_id = event.aggregate_id
        order.delivery_version = event.aggregate_version
        order.delivery_status = event.status
        _bump(order, now)
        if order.status != Order.CONFIRMED:
            return []
        if event.status == "DELIVERED":
            order.status = Order.COMPLETED
            return [OrderCompleted(aggregate_id=str(order.id), aggregate_version=order.version)]
        if event.status == "FAILED":
            return _fail(order, DELIVERY_FAILED, now)
        return []

    return _ignore(order, event, "no transition for this event")


def cancellable(order: Order) -> bool:
    if order.status == Order.PENDING:
        return True
    return order.status == Order.CONFIRMED and order.delivery_status in CANCELLABLE_DELIVERY


def cancel(order: Order, now: datetime) -> list[DomainEvent]:
    """The buyer cancels (callers check ``cancellable`` first). The catalog releases the stock,
    delivery cancels a shipment not yet picked up, and a settled payment is refunded; one still in
    flight is refunded when its approval arrives (see ``apply``)."""
    order.status = Order.CANCELLED
    order.deadline_at = None
    _bump(order, now)
    out: list[DomainEvent] = [OrderCancelled(aggregate_id=str(order.id), aggregate_version=order.version,
                                             reason="cancelled by the buyer")]
    if order.payment_status == "APPROVED" and order.payment_id:
        out.append(_refund(order, "cancelled by the buyer"))
    return out


def on_deadline(order: Order, now: datetime) -> list[DomainEvent]:
    """A PENDING order's awaited answer is overdue. First retry the request that should have
    produced it (the other context ignores a duplicate), then give up and fail it."""
    cfg = settings.ORDERS
    waiting_for_stock = order.stock_status == ""
    if order.stall_retries < cfg["STALL_RETRIES"]:
        order.stall_retries += 1
        order.deadline_at = now + timedelta(seconds=cfg["STALL_RETRY_SECONDS"])
        _bump(order, now)
        log.warning("orders: order %s stalled waiting for %s; request sent again", order.id,
                    "stock" if waiting_for_stock else "payment")
        return [placed_event(order) if waiting_for_stock else payment_request_event(order)]
    log.warning("orders: order %s stalled waiting for %s; failed", order.id,
                "stock" if waiting_for_stock else "payment")
    return _fail(order, OUT_OF_STOCK if waiting_for_stock else PAYMENT_FAILED, now)
