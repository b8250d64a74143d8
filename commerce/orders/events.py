"""Events the orders context publishes. Plain dataclasses: no Django, importable by anyone.

The catalog reserves, releases and sells stock by reacting to these: orders never change stock.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from commerce.eventbus.event import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    product_id: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(DomainEvent):
    """A buyer placed an order (``aggregate_id`` = order id). Stock is not touched yet."""

    name: ClassVar[str] = "orders.order_placed"
    buyer_id: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(DomainEvent):
    """The buyer cancelled the order; whatever it holds is to be given back."""

    name: ClassVar[str] = "orders.order_cancelled"
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OrderFailed(DomainEvent):
    """The order cannot go on (out of stock, payment declined or failed, ...)."""

    name: ClassVar[str] = "orders.order_failed"
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(DomainEvent):
    """The order was delivered: its reserved stock is sold."""

    name: ClassVar[str] = "orders.order_completed"


@dataclass(frozen=True, kw_only=True)
class OrderPaymentRequested(DomainEvent):
    """The order's stock is reserved: charge the buyer (``aggregate_id`` = order id).
    Payments keeps one payment per order and request; a repeat of this event is a no-op."""

    name: ClassVar[str] = "orders.payment_requested"
    buyer_id: str
    payment_method_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(DomainEvent):
    """Stock reserved and payment approved: ship it. ``address`` is the snapshot of the buyer's
    address taken when the order was placed (``delivery.api.address_snapshot``)."""

    name: ClassVar[str] = "orders.order_confirmed"
    buyer_id: str
    address_id: str
    address: dict
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, kw_only=True)
class OrderRefundRequested(DomainEvent):
    """Give the money of ``payment_id`` back (the order was cancelled after payment, or an
    approval arrived for an order that had already failed). ``aggregate_id`` = order id."""

    name: ClassVar[str] = "orders.refund_requested"
    payment_id: str
    reason: str = ""
