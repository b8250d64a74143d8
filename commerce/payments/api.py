"""The payments context's public facade for other contexts: plain values in, frozen dataclasses out."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import connection

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
    # plain SQL: this sits on the order-placing path, where building the ORM query cost more
    # than running it
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT brand, last4, exp_month, exp_year FROM {PaymentMethod._meta.db_table}"
                       " WHERE id = %s AND member_id = %s AND active", [method, buyer])
        row = cursor.fetchone()
    if row is None or cards.is_expired(row[2], row[3]):
        return None
    return UsableMethod(method_id=str(method), brand=row[0], last4=row[1])
