"""Payments reads: a member's methods and payments. Another member's rows are simply not found."""
from __future__ import annotations

from uuid import UUID

from commerce.payments.models import Payment, PaymentMethod
from commerce.shared.errors import NotFound
from commerce.shared.http.pagination import Page, PageRequest, paginate_keyset


def method_list(*, member_id: UUID, page: PageRequest) -> Page[PaymentMethod]:
    """Newest first."""
    return paginate_keyset(PaymentMethod.objects.filter(member_id=member_id), ordering=("-created_at", "-id"),
                           page=page)


def payment_get(*, payment_id: UUID, buyer_id: UUID) -> Payment:
    payment = Payment.objects.filter(id=payment_id, buyer_id=buyer_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment
