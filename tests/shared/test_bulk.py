"""bulk_insert against the real database: every column as given, database defaults and ids
where the objects leave them, nothing for an empty batch."""
import uuid
from datetime import UTC, datetime

import pytest

from commerce.catalog.models import OrderStock, StockMovement
from commerce.shared.bulk import bulk_insert

pytestmark = pytest.mark.django_db


def test_rows_are_inserted_with_their_values_and_the_database_fills_ids_and_defaults():
    product, order = uuid.uuid4(), uuid.uuid4()
    bulk_insert([
        StockMovement(product_id=product, kind=StockMovement.RESERVE, reserved_delta=2, order_id=order,
                      reason="orders.order_placed"),
        StockMovement(product_id=product, kind=StockMovement.RELEASE, reserved_delta=-2, order_id=None,
                      reason="ünïcode ✓"),
    ])
    rows = list(StockMovement.objects.filter(product_id=product).order_by("id"))
    assert [(r.kind, r.reserved_delta, r.on_hand_delta, r.order_id, r.reason) for r in rows] == [
        ("reserve", 2, 0, order, "orders.order_placed"), ("release", -2, 0, None, "ünïcode ✓")]
    assert rows[0].id < rows[1].id and all(r.created_at is not None for r in rows)


def test_a_value_given_for_a_column_with_a_database_default_is_kept_and_an_empty_batch_does_nothing():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    order = uuid.uuid4()
    bulk_insert([])
    bulk_insert([OrderStock(order_id=order, status=OrderStock.RESERVED, updated_at=at)])
    assert OrderStock.objects.get(order_id=order).updated_at == at
    with pytest.raises(ValueError):
        bulk_insert([OrderStock(order_id=uuid.uuid4(), status="RESERVED", updated_at=at),
                     OrderStock(order_id=uuid.uuid4(), status="RESERVED")])
