"""Delivery's reactions to order events. One handler for both, so that one order's events reach
it in publish order (one stream per order id). Batches: runs of confirmations are recorded a run
at a time (one statement), cancellations one by one, in the order they came."""
from __future__ import annotations

from uuid import UUID

from commerce.delivery import services, tasks
from commerce.eventbus import subscribe
from commerce.orders.events import OrderCancelled, OrderConfirmed


@subscribe(OrderConfirmed, OrderCancelled, handler="delivery.order_events", queue="delivery", max_attempts=30,
           batch=True, max_batch=200)
def on_order_events(events: list[OrderConfirmed | OrderCancelled]) -> None:
    run: list[services.DeliveryRequest] = []
    carrier_work = False

    def flush() -> None:
        nonlocal carrier_work
        if run:
            carrier_work |= bool(services.deliveries_request(run))
            run.clear()

    for event in events:
        if isinstance(event, OrderConfirmed):
            order_id = UUID(event.aggregate_id)
            if any(r.order_id == order_id for r in run):  # a repeat: its first copy must be recorded first
                flush()
            run.append(services.DeliveryRequest(
                order_id=order_id, buyer_id=UUID(event.buyer_id), address=event.address,
                lines=[{"productId": line.product_id, "quantity": line.quantity} for line in event.lines]))
        else:
            flush()
            services.delivery_cancel_for_order(order_id=UUID(event.aggregate_id), reason=event.reason)
            carrier_work = True
    flush()
    if carrier_work:
        tasks.kick_carrier_sync_after_commit()
