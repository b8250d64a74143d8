"""Events the delivery context publishes. Plain dataclasses: no Django, importable by anyone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from commerce.eventbus.event import DomainEvent


@dataclass(frozen=True, kw_only=True)
class DeliveryStatusChanged(DomainEvent):
    """A delivery moved on (``aggregate_id`` = delivery id, ``aggregate_version`` grows with every
    change). ``status``: ``REQUESTED``, ``SHIPPED``, ``IN_TRANSIT``, ``DELIVERED`` or ``FAILED``."""

    name: ClassVar[str] = "delivery.status_changed"
    order_id: str
    buyer_id: str
    status: str
    tracking_number: str = ""
    reason: str = ""
    at: datetime
