"""The payments context's public facade for other contexts: plain values in, frozen dataclasses out."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commerce.payments import cards
from commerce.payments.models import PaymentMethod


@dataclass(frozen=True)
class UsableMethod:
    method_id: str
    brand: str
    last4: str


def usable_method(buyer_id: str, method_id: str) -> UsableMethod | None:
    """The buyer's payment method if it can pay now: theirs, active and not expired. None for
    anything else, including ids that are not UUIDs. One primary-key lookup."""
    try:
        buyer, method = UUID(str(buyer_id)), UUID(str(method_id))
    except ValueError:
        return None
    row = (PaymentMethod.objects.filter(id=method, member_id=buyer, active=True)
           .values_list("brand", "last4", "exp_month", "exp_year").first())
    if row is None or cards.is_expired(row[2], row[3]):
        return None
    return UsableMethod(method_id=str(method), brand=row[0], last4=row[1])
