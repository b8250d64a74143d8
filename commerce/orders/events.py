"""Events the orders context publishes. Plain dataclasses: no Django, importable by anyone.

The catalog reserves, releases and sells stock by reacting to these: orders never change stock.
"""
from __future__ import annotations

from dataclasses import dataclass
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
