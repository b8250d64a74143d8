"""Reads of the delivery context."""
from __future__ import annotations

from uuid import UUID

from commerce.delivery.models import Address, Delivery
from commerce.shared.errors import NotFound
from commerce.shared.http.pagination import Page, PageRequest, paginate_keyset
from commerce.shared.lookups import Lookup

SNAPSHOT_FIELDS = ("id", "recipient", "phone", "line1", "line2", "city", "postal_code", "country")


def address_list(*, owner_id: UUID, page: PageRequest) -> Page:
    """The member's own addresses, newest first."""
    return paginate_keyset(Address.objects.filter(owner_id=owner_id), ordering=("-created_at", "-id"), page=page)


def address_find_lookup(*, owner_id: UUID, address_id: UUID) -> Lookup[dict | None]:
    """One address of this owner as a dict of ``SNAPSHOT_FIELDS`` (one primary-key lookup, in SQL:
    it sits on the order-placing path, where the ORM's query building cost more than the query)."""
    return Lookup(f"SELECT {', '.join(SNAPSHOT_FIELDS)} FROM {Address._meta.db_table}"
                  " WHERE id = %s AND owner_id = %s", [address_id, owner_id],
                  lambda rows: dict(zip(SNAPSHOT_FIELDS, rows[0], strict=True)) if rows else None)


def delivery_get(*, delivery_id: UUID, requester_id: UUID, requester_is_staff: bool) -> Delivery:
    """A delivery with its history, for the order's buyer or staff; anyone else gets NotFound."""
    delivery = Delivery.objects.filter(id=delivery_id).first()
    if delivery is None or not (requester_is_staff or delivery.buyer_id == requester_id):
        raise NotFound("No delivery with this id.")
    delivery.history_rows = list(delivery.history.order_by("id"))
    return delivery
