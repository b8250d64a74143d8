"""The payments context's public facade for other contexts: plain values in, frozen dataclasses out."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commerce.payments import cards
from commerce.payments.models import PaymentMethod
from commerce.shared import lookups
from commerce.shared.lookups import Lookup


@dataclass(frozen=True)
class UsableMethod:
    method_id: str
    brand: str
    last4: str


def usable_method(buyer_id: str, method_id: str) -> UsableMethod | None:
    """The buyer's payment method if it can pay now: theirs, active and not expired. None for
    anything else, including ids that are not UUIDs. One primary-key lookup."""
    return lookups.run(usable_method_lookup(buyer_id, method_id))


def usable_method_lookup(buyer_id: str, method_id: str) -> Lookup[UsableMethod | None]:
    """``usable_method`` as a lookup, to be sent together with other contexts' lookups."""
    try:
        buyer, method = UUID(str(buyer_id)), UUID(str(method_id))
    except ValueError:
        return Lookup.answered(None)

    def read(rows: list[tuple]) -> UsableMethod | None:
        if not rows or cards.is_expired(rows[0][2], rows[0][3]):
            return None
        return UsableMethod(method_id=str(method), brand=rows[0][0], last4=rows[0][1])

    # plain SQL: this sits on the order-placing path, where building the ORM query cost more
    # than running it
    return Lookup(f"SELECT brand, last4, exp_month, exp_year FROM {PaymentMethod._meta.db_table}"
                  " WHERE id = %s AND member_id = %s AND active", [method, buyer], read)
