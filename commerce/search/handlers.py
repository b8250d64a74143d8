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


@subscribe(ProductChanged, handler="search.index_product", queue="search")
def on_product_changed(event: ProductChanged) -> None:
    index.index_product(document_from(event))


@subscribe(StockAvailabilityChanged, handler="search.index_stock", queue="search")
def on_stock_availability_changed(event: StockAvailabilityChanged) -> None:
    index.set_in_stock(event.aggregate_id, event.in_stock, event.aggregate_version)


