"""Events the catalog publishes. Plain dataclasses: no Django, importable by anyone."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from commerce.eventbus.event import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ProductChanged(DomainEvent):
    """A product was created or changed; carries the whole document. ``aggregate_id`` is the
    product id and ``aggregate_version`` its version: a consumer keeps the highest it has seen."""

    name: ClassVar[str] = "catalog.product_changed"
    seller_id: str
    product_name: str
    description: str
    price: Decimal
    currency: str
    category: str
    attributes: dict = field(default_factory=dict)
    active: bool = True
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class StockAvailabilityChanged(DomainEvent):
    """A product went from sold out to in stock or back (not published for every movement).
    ``aggregate_version`` is the stock row's version."""

    name: ClassVar[str] = "catalog.stock_availability_changed"
    seller_id: str
    in_stock: bool
    available: int


@dataclass(frozen=True, kw_only=True)
class ReservedLine:
    product_id: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class StockReserved(DomainEvent):
    """Every line of an order is reserved (``aggregate_id`` = order id)."""

    name: ClassVar[str] = "catalog.stock_reserved"
    lines: tuple[ReservedLine, ...]


@dataclass(frozen=True, kw_only=True)
class StockReservationFailed(DomainEvent):
    """Nothing of the order is reserved: ``product_id`` fell short (or does not exist)."""

    name: ClassVar[str] = "catalog.stock_reservation_failed"
    product_id: str
    requested: int
    available: int
