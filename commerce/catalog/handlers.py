"""The catalog's reactions to events: order events move stock; its own ProductChanged events
re-apply product documents to the store (repairing a crash between commit and store write)."""
from commerce.catalog import services
from commerce.catalog.events import ProductChanged
from commerce.eventbus import subscribe
from commerce.orders.events import OrderCancelled, OrderCompleted, OrderFailed, OrderPlaced


# One handler for every order event, so one order's events reach it in publish order (one stream
# per order id); batches make a hot product cost one lock per batch instead of one per order, and
# the cap of 100 keeps each batch's row locks short (see docs/catalog.md for the measurements).
@subscribe(OrderPlaced, OrderCancelled, OrderFailed, OrderCompleted, handler="catalog.order_stock",
           queue="catalog", batch=True, partitions=2, max_batch=100)
def on_order_event(events) -> None:
    services.order_stock_apply(events)


@subscribe(ProductChanged, handler="catalog.apply_product_document", queue="catalog")
def on_product_changed(event: ProductChanged) -> None:
    services.product_document_apply(event)
