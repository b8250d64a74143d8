"""The delivery context's public facade for other contexts (orders): plain values in and out."""
from __future__ import annotations

from uuid import UUID

from commerce.delivery import selectors


def address_snapshot(buyer_id: str, address_id: str) -> dict | None:
    """The buyer's address as a plain JSON-able dict (``addressId, recipient, phone, line1, line2,
    city, postalCode, country``), for an order to keep as it was; None when the address is not
    this buyer's, does not exist, or either id is malformed. One primary-key lookup."""
    try:
        owner, address = UUID(str(buyer_id)), UUID(str(address_id))
    except ValueError:
        return None
    row = selectors.address_find(owner_id=owner, address_id=address)
    if row is None:
        return None
    return {"addressId": str(row["id"]), "recipient": row["recipient"], "phone": row["phone"],
            "line1": row["line1"], "line2": row["line2"], "city": row["city"], "postalCode": row["postal_code"],
            "country": row["country"]}
