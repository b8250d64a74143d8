"""Events the payments context publishes. Plain dataclasses: no Django, importable by anyone.

``aggregate_id`` is the payment id; ``order_id`` says which order it pays.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from commerce.eventbus.event import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaymentApproved(DomainEvent):
    """The gateway charged the buyer."""

    name: ClassVar[str] = "payments.payment_approved"
    order_id: str
    buyer_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class PaymentDeclined(DomainEvent):
    """The gateway refused the card (``reason``: ``DECLINED`` or ``INSUFFICIENT_FUNDS``)."""

    name: ClassVar[str] = "payments.payment_declined"
    order_id: str
    buyer_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(DomainEvent):
    """The payment could not be settled (processing errors, or still unsettled at its deadline)."""

    name: ClassVar[str] = "payments.payment_failed"
    order_id: str
    buyer_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentRefunded(DomainEvent):
    """An approved payment was given back."""

    name: ClassVar[str] = "payments.payment_refunded"
    order_id: str
    buyer_id: str
    amount: Decimal
    currency: str
