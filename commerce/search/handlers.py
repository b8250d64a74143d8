"""Search keeps its index from the catalog's events only."""
from datetime import UTC

from commerce.catalog.events import ProductChanged, StockAvailabilityChanged
from commerce.eventbus import subscribe
from commerce.search import index


def document_from(event: ProductChanged) -> index.Document:
    created = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=UTC)
    return index.Document(
        product_id=event.aggregate_id, seller_id=event.seller_id, name=event.product_name,
        description=event.description, price=event.price, currency=event.currency, category=event.category,
        active=event.active, version=event.aggregate_version, created_ms=int(created.timestamp() * 1000),
        attributes=event.attributes,
    )


# Redis being down makes these raise; the bus retries with backoff (capped at 5 minutes), and 30
# attempts ride out an outage of about two hours before anything becomes a dead letter.
@subscribe(ProductChanged, handler="search.index_product", queue="search", max_attempts=30)
def on_product_changed(event: ProductChanged) -> None:
    index.index_product(document_from(event))


@subscribe(StockAvailabilityChanged, handler="search.index_stock", queue="search", max_attempts=30)
def on_stock_availability_changed(event: StockAvailabilityChanged) -> None:
    index.set_in_stock(event.aggregate_id, event.in_stock, event.aggregate_version)


