"""The saga on the orders side, on the real database: each event of the other contexts moves an
order on (or is ignored), and the catalog's real stock handler takes and gives back stock."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from commerce.catalog import services as catalog_services
from commerce.catalog.models import Stock
from commerce.delivery.events import DeliveryStatusChanged
from commerce.eventbus.codec import decode
from commerce.orders import services
from commerce.orders.models import Order
from commerce.payments.events import PaymentApproved, PaymentDeclined, PaymentFailed, PaymentRefunded
from tests.orders.conftest import published

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(member, buyer_setup, product):
    """``place(stock=..., quantity=...)`` -> (order, product_id): an order placed through the service."""
    method_id, address_id = buyer_setup(member)

    def make(*, stock=10, quantity=2, price="1000.00"):
        pid = product(stock=stock, price=price)
        order, _ = services.order_place(buyer_id=member.id, items=[services.ItemRequest(pid, quantity)],
                                        payment_method_id=method_id, address_id=address_id)
        return order, pid

    return make


def last_event(name, order_id):
    rows = published(name, order_id)
    assert rows, f"{name} was not published for {order_id}"
    return decode(name, json.dumps(rows[-1].payload))


def catalog_sees(name, order_id):
    """Deliver the order event to the catalog's stock handler, as the bus would."""
    with transaction.atomic():
        catalog_services.order_stock_apply([last_event(name, order_id)])


def orders_see(*events):
    services.orders_apply(list(events))


def refreshed(order):
    return Order.objects.get(id=order.id)


def available(pid):
    return Stock.objects.get(product_id=pid).available


def reserve(order):
    catalog_sees("orders.order_placed", order.id)
    orders_see(last_event("catalog.stock_reserved", order.id))


def approved(order, payment_id="pay-1"):
    return PaymentApproved(aggregate_id=payment_id, order_id=str(order.id), buyer_id=str(order.buyer_id),
                           amount=order.total, currency="KRW")


def delivery(order, status, version, delivery_id="del-1"):
    return DeliveryStatusChanged(aggregate_id=delivery_id, aggregate_version=version, order_id=str(order.id),
                                 buyer_id=str(order.buyer_id), status=status, at=datetime.now(UTC))


def test_happy_path_reserved_paid_confirmed_delivered_completed(place):
    order, pid = place(stock=5, quantity=2, price="1000.00")
    reserve(order)
    assert available(pid) == 3
    request = last_event("orders.payment_requested", order.id)
    assert (request.amount, request.currency, request.buyer_id) == (Decimal("2000.00"), "KRW", str(order.buyer_id))
    assert refreshed(order).payment_status == "PENDING"

    orders_see(approved(order))
    o = refreshed(order)
    assert (o.status, o.payment_id, o.payment_status) == ("CONFIRMED", "pay-1", "APPROVED")
    confirmed = last_event("orders.order_confirmed", order.id)
    assert confirmed.address["city"] == "Seoul" and [(line.product_id, line.quantity) for line in confirmed.lines] == [
        (str(pid), 2)]

    orders_see(delivery(order, "REQUESTED", 1), delivery(order, "SHIPPED", 2))
    assert (refreshed(order).status, refreshed(order).delivery_status) == ("CONFIRMED", "SHIPPED")
    orders_see(delivery(order, "DELIVERED", 4), delivery(order, "IN_TRANSIT", 3))  # the late one is stale
    o = refreshed(order)
    assert (o.status, o.delivery_status, o.delivery_id) == ("COMPLETED", "DELIVERED", "del-1")
    catalog_sees("orders.order_completed", order.id)
    stock = Stock.objects.get(product_id=pid)
    assert (stock.on_hand, stock.reserved, stock.available) == (3, 0, 3)


def test_out_of_stock_fails_the_order(place):
    order, pid = place(stock=1, quantity=2)
    catalog_sees("orders.order_placed", order.id)
    orders_see(last_event("catalog.stock_reservation_failed", order.id))
    o = refreshed(order)
    assert (o.status, o.failure_reason) == ("FAILED", "OUT_OF_STOCK")
    assert last_event("orders.order_failed", order.id).reason == "OUT_OF_STOCK"
    assert not published("orders.payment_requested", order.id) and available(pid) == 1


@pytest.mark.parametrize("event_class, reason, payment_status", [
    (PaymentDeclined, "PAYMENT_DECLINED", "DECLINED"), (PaymentFailed, "PAYMENT_FAILED", "FAILED")])
def test_a_payment_that_does_not_go_through_fails_the_order_and_releases_its_stock(
        place, event_class, reason, payment_status):
    order, pid = place(stock=5, quantity=2)
    reserve(order)
    assert available(pid) == 3
    orders_see(event_class(aggregate_id="pay-9", order_id=str(order.id), buyer_id=str(order.buyer_id),
                           reason="DECLINED"))
    o = refreshed(order)
    assert (o.status, o.failure_reason, o.payment_status, o.payment_id) == ("FAILED", reason, payment_status, "pay-9")
    catalog_sees("orders.order_failed", order.id)
    assert available(pid) == 5
    assert not published("orders.refund_requested", order.id)


def test_the_same_event_twice_moves_the_order_once(place):
    order, _ = place()
    reserve(order)
    orders_see(last_event("catalog.stock_reserved", order.id))
    assert len(published("orders.payment_requested", order.id)) == 1
    orders_see(approved(order), approved(order))
    assert len(published("orders.order_confirmed", order.id)) == 1
    assert not published("orders.refund_requested", order.id)


def test_an_approval_for_a_cancelled_order_is_refunded(place):
    order, pid = place(stock=5, quantity=1)
    reserve(order)
    services.order_cancel(buyer_id=order.buyer_id, order_id=order.id)
    catalog_sees("orders.order_cancelled", order.id)
    assert available(pid) == 5
    orders_see(approved(order, "pay-late"))
    assert refreshed(order).status == "CANCELLED"
    refund = last_event("orders.refund_requested", order.id)
    assert refund.payment_id == "pay-late"
    assert not published("orders.order_confirmed", order.id)


def test_cancelling_a_paid_order_refunds_it_and_the_refund_is_recorded(place):
    order, _ = place()
    reserve(order)
    orders_see(approved(order), delivery(order, "REQUESTED", 1))
    services.order_cancel(buyer_id=order.buyer_id, order_id=order.id)
    assert last_event("orders.refund_requested", order.id).payment_id == "pay-1"
    orders_see(PaymentRefunded(aggregate_id="pay-1", order_id=str(order.id), buyer_id=str(order.buyer_id),
                               amount=order.total, currency="KRW"))
    o = refreshed(order)
    assert (o.status, o.payment_status) == ("CANCELLED", "REFUNDED")


def test_a_failed_delivery_fails_the_order_releases_stock_and_refunds(place):
    order, pid = place(stock=3, quantity=1)
    reserve(order)
    orders_see(approved(order), delivery(order, "REQUESTED", 1), delivery(order, "FAILED", 2))
    o = refreshed(order)
    assert (o.status, o.failure_reason, o.delivery_status) == ("FAILED", "DELIVERY_FAILED", "FAILED")
    assert last_event("orders.refund_requested", order.id).payment_id == "pay-1"
    catalog_sees("orders.order_failed", order.id)
    assert available(pid) == 3


def test_events_for_unknown_orders_are_ignored(place):
    orders_see(PaymentApproved(aggregate_id="p", order_id=str(uuid.uuid4()), buyer_id="b", amount=Decimal(1),
                               currency="KRW"),
               PaymentApproved(aggregate_id="p", order_id="not-a-uuid", buyer_id="b", amount=Decimal(1),
                               currency="KRW"))
    assert not published("orders.order_confirmed")


def overdue(order):
    Order.objects.filter(id=order.id).update(deadline_at=timezone.now() - timedelta(seconds=1))


def test_an_order_stuck_waiting_for_stock_is_asked_again_then_failed(place, settings):
    settings.ORDERS = {**settings.ORDERS, "STALL_RETRIES": 1, "STALL_RETRY_SECONDS": 60}
    order, pid = place(stock=5, quantity=1)
    assert services.orders_check_deadlines() == 0  # not due yet
    overdue(order)
    assert services.orders_check_deadlines() == 1
    assert len(published("orders.order_placed", order.id)) == 2  # asked again
    assert refreshed(order).status == "PENDING" and refreshed(order).deadline_at > timezone.now()
    overdue(order)
    assert services.orders_check_deadlines() == 1
    o = refreshed(order)
    assert (o.status, o.failure_reason, o.deadline_at) == ("FAILED", "OUT_OF_STOCK", None)
    # the catalog sees the request only now: the failure it saw first keeps the stock free
    catalog_sees("orders.order_failed", order.id)
    catalog_sees("orders.order_placed", order.id)
    assert available(pid) == 5


def test_an_order_stuck_waiting_for_payment_is_asked_again_then_failed_and_released(place, settings):
    settings.ORDERS = {**settings.ORDERS, "STALL_RETRIES": 1}
    order, pid = place(stock=5, quantity=2)
    reserve(order)
    assert refreshed(order).deadline_at > timezone.now() + timedelta(
        seconds=settings.ORDERS["PAYMENT_DEADLINE_SECONDS"] - 60)
    overdue(order)
    services.orders_check_deadlines()
    assert len(published("orders.payment_requested", order.id)) == 2
    overdue(order)
    services.orders_check_deadlines()
    o = refreshed(order)
    assert (o.status, o.failure_reason) == ("FAILED", "PAYMENT_FAILED")
    catalog_sees("orders.order_failed", order.id)
    assert available(pid) == 5
    # and if the money arrives after all, it goes back
    orders_see(approved(order, "pay-slow"))
    assert last_event("orders.refund_requested", order.id).payment_id == "pay-slow"


def test_the_payment_deadline_lies_beyond_the_payments_own(settings):
    payments_deadline = getattr(settings, "PAYMENTS", {}).get("DEADLINE_SECONDS", 30 * 60)
    assert settings.ORDERS["PAYMENT_DEADLINE_SECONDS"] > payments_deadline
