"""The delivery context's public facade for other contexts (orders): plain values in and out."""
from __future__ import annotations

from uuid import UUID

from commerce.delivery import selectors
from commerce.shared import lookups
from commerce.shared.lookups import Lookup


def address_snapshot(buyer_id: str, address_id: str) -> dict | None:
    """The buyer's address as a plain JSON-able dict (``addressId, recipient, phone, line1, line2,
    city, postalCode, country``), for an order to keep as it was; None when the address is not
    this buyer's, does not exist, or either id is malformed. One primary-key lookup."""
    return lookups.run(address_snapshot_lookup(buyer_id, address_id))


def address_snapshot_lookup(buyer_id: str, address_id: str) -> Lookup[dict | None]:
    """``address_snapshot`` as a lookup, to be sent together with other contexts' lookups."""
    try:
        owner, address = UUID(str(buyer_id)), UUID(str(address_id))
    except ValueError:
        return Lookup.answered(None)
    return selectors.address_find_lookup(owner_id=owner, address_id=address).then(_snapshot)


def _snapshot(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {"addressId": str(row["id"]), "recipient": row["recipient"], "phone": row["phone"],
            "line1": row["line1"], "line2": row["line2"], "city": row["city"], "postalCode": row["postal_code"],
            "country": row["country"]}
