"""Delivery's reactions to order events. One handler for both, so that one order's events reach
it in publish order (one stream per order id)."""
from __future__ import annotations

from uuid import UUID

from commerce.delivery import services, tasks
from commerce.eventbus import subscribe
from commerce.orders.events import OrderCancelled, OrderConfirmed


@subscribe(OrderConfirmed, OrderCancelled, handler="delivery.order_events", queue="delivery", max_attempts=30)
def on_order_event(event: OrderConfirmed | OrderCancelled) -> None:
    if isinstance(event, OrderConfirmed):
        lines = [{"productId": line.product_id, "quantity": line.quantity} for line in event.lines]
        delivery = services.delivery_request(order_id=UUID(event.aggregate_id), buyer_id=UUID(event.buyer_id),
                                             address=event.address, lines=lines)
        if delivery is not None and delivery.carrier_todo:
            tasks.kick_carrier_sync_after_commit()
    else:
        services.delivery_cancel_for_order(order_id=UUID(event.aggregate_id), reason=event.reason)
        tasks.kick_carrier_sync_after_commit()
