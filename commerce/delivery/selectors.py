"""Reads of the delivery context."""
from __future__ import annotations

from uuid import UUID

from django.db import connection

from commerce.delivery.models import Address, Delivery
from commerce.shared.errors import NotFound
from commerce.shared.http.pagination import Page, PageRequest, paginate_keyset

SNAPSHOT_FIELDS = ("id", "recipient", "phone", "line1", "line2", "city", "postal_code", "country")


def address_list(*, owner_id: UUID, page: PageRequest) -> Page:
    """The member's own addresses, newest first."""
    return paginate_keyset(Address.objects.filter(owner_id=owner_id), ordering=("-created_at", "-id"), page=page)


def address_find(*, owner_id: UUID, address_id: UUID) -> dict | None:
    """One address of this owner as a dict of ``SNAPSHOT_FIELDS`` (one primary-key lookup, in SQL:
    it sits on the order-placing path, where the ORM's query building cost more than the query)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(SNAPSHOT_FIELDS)} FROM {Address._meta.db_table}"
                       " WHERE id = %s AND owner_id = %s", [address_id, owner_id])
        row = cursor.fetchone()
    return dict(zip(SNAPSHOT_FIELDS, row, strict=True)) if row else None


def delivery_get(*, delivery_id: UUID, requester_id: UUID, requester_is_staff: bool) -> Delivery:
    """A delivery with its history, for the order's buyer or staff; anyone else gets NotFound."""
    delivery = Delivery.objects.filter(id=delivery_id).first()
    if delivery is None or not (requester_is_staff or delivery.buyer_id == requester_id):
        raise NotFound("No delivery with this id.")
    delivery.history_rows = list(delivery.history.order_by("id"))
    return delivery
