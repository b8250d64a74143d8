"""Orders read side: a buyer's own orders only; anyone else's order is simply not there."""
from __future__ import annotations

from uuid import UUID

from commerce.orders.models import Order
from commerce.shared.errors import NotFound
from commerce.shared.http.pagination import Page, PageRequest, paginate_keyset


def order_get(*, buyer_id: UUID, order_id: UUID) -> Order:
    order = Order.objects.filter(id=order_id, buyer_id=buyer_id).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def orders_list(*, buyer_id: UUID, page: PageRequest) -> Page[Order]:
    """Newest first; one range scan of the (buyer, created, id) index per page."""
    return paginate_keyset(Order.objects.filter(buyer_id=buyer_id), ordering=("-created_at", "-id"), page=page)
