"""Stock held by orders, driven by order events: no oversell, all lines or none, no deadlock,
idempotent under redelivery and reordering."""
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from commerce.catalog import services
from commerce.catalog.models import OrderStock, Reservation, Stock, StockMovement
from commerce.eventbus.delivery import deliver
from commerce.eventbus.models import Dispatch, OutboxEvent
from commerce.eventbus.publisher import publish
from commerce.eventbus.relay import relay_once
from commerce.eventbus.subscriptions import handler_named
from commerce.orders.events import OrderCancelled, OrderCompleted, OrderFailed, OrderLine, OrderPlaced

SELLER = uuid.uuid4()


def make_product(stock, name="Flash sale earbuds"):
    return services.product_create(seller_id=SELLER, name=name, description="", price="12900.00",
                                   currency="KRW", category="electronics", attributes={}, stock=stock).product_id


def placed(*lines, order_id=None):
    return OrderPlaced(aggregate_id=str(order_id or uuid.uuid4()), aggregate_version=1,
                       buyer_id=str(uuid.uuid4()),
                       lines=tuple(OrderLine(product_id=str(p), quantity=q) for p, q in lines))


def apply(*events):
    with transaction.atomic():
        services.order_stock_apply(list(events))


def stock_of(product_id):
    return Stock.objects.get(product_id=product_id)


def published(name):
    return list(OutboxEvent.objects.filter(name=name).order_by("id"))


def ledger_matches(product_id):
    stock = stock_of(product_id)
    sums = StockMovement.objects.filter(product_id=product_id).aggregate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    return (sums["on_hand"] or 0, sums["reserved"] or 0) == (stock.on_hand, stock.reserved)


@pytest.mark.django_db(transaction=True)
def test_an_order_reserves_every_line_and_announces_it():
    a, b = make_product(5), make_product(3)
    order = placed((a, 2), (b, 3))
    apply(order)
    assert (stock_of(a).available, stock_of(a).reserved) == (3, 2)
    assert (stock_of(b).available, stock_of(b).reserved) == (0, 3)
    assert OrderStock.objects.get(order_id=order.aggregate_id).status == OrderStock.RESERVED
    [event] = published("catalog.stock_reserved")
    assert event.aggregate_id == order.aggregate_id
    assert sorted((line["product_id"], line["quantity"]) for line in event.payload["lines"]) == sorted(
        [(str(a), 2), (str(b), 3)])
    # b went from in stock to sold out: one availability event for it, none for a
    transitions = [e for e in published("catalog.stock_availability_changed") if e.payload["in_stock"] is False]
    assert [e.aggregate_id for e in transitions] == [str(b)]
    assert ledger_matches(a) and ledger_matches(b)


@pytest.mark.django_db(transaction=True)
def test_an_order_that_does_not_fit_reserves_nothing_and_names_the_short_product():
    a, b = make_product(5), make_product(1)
    apply(placed((a, 2), (b, 2)))
    assert (stock_of(a).reserved, stock_of(b).reserved) == (0, 0)
    [event] = published("catalog.stock_reservation_failed")
    assert (event.payload["product_id"], event.payload["requested"], event.payload["available"]) == (str(b), 2, 1)
    assert OrderStock.objects.get(order_id=event.aggregate_id).status == OrderStock.REJECTED
    assert not Reservation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_order_for_an_unknown_product_fails_cleanly():
    unknown = uuid.uuid4()
    apply(placed((unknown, 1)))
    [event] = published("catalog.stock_reservation_failed")
    assert event.payload["product_id"] == str(unknown) and event.payload["available"] == 0


@pytest.mark.django_db(transaction=True)
def test_lines_of_the_same_product_are_added_up():
    a = make_product(3)
    apply(placed((a, 2), (a, 2)))
    assert stock_of(a).reserved == 0
    apply(placed((a, 1), (a, 2)))
    assert stock_of(a).reserved == 3


@pytest.mark.django_db(transaction=True)
def test_the_same_order_placed_twice_reserves_once():
    a = make_product(5)
    order = placed((a, 2))
    apply(order)
    apply(order)
    apply(order, order)
    assert stock_of(a).reserved == 2
    assert Reservation.objects.count() == 1
    assert len(published("catalog.stock_reserved")) == 1


@pytest.mark.django_db(transaction=True)
def test_cancelling_releases_and_completing_sells():
    a = make_product(5)
    cancelled, completed = placed((a, 2)), placed((a, 1))
    apply(cancelled, completed)
    assert (stock_of(a).on_hand, stock_of(a).reserved) == (5, 3)
    apply(OrderCancelled(aggregate_id=cancelled.aggregate_id, aggregate_version=2))
    apply(OrderCompleted(aggregate_id=completed.aggregate_id, aggregate_version=3))
    assert (stock_of(a).on_hand, stock_of(a).reserved, stock_of(a).available) == (4, 0, 4)
    statuses = dict(OrderStock.objects.values_list("order_id", "status"))
    assert statuses == {uuid.UUID(cancelled.aggregate_id): OrderStock.RELEASED,
                        uuid.UUID(completed.aggregate_id): OrderStock.SOLD}
    apply(OrderCancelled(aggregate_id=cancelled.aggregate_id, aggregate_version=2))  # redelivered
    apply(OrderFailed(aggregate_id=completed.aggregate_id, aggregate_version=4))  # too late: it is sold
    assert (stock_of(a).on_hand, stock_of(a).reserved) == (4, 0)
    kinds = Counter(StockMovement.objects.filter(product_id=a).values_list("kind", flat=True))
    assert kinds == {"adjust": 1, "reserve": 2, "release": 1, "sell": 1}
    assert ledger_matches(a)


@pytest.mark.django_db(transaction=True)
def test_a_release_that_overtakes_its_reservation_leaves_nothing_reserved():
    a = make_product(5)
    order = placed((a, 2))
    apply(OrderFailed(aggregate_id=order.aggregate_id, aggregate_version=2, reason="PAYMENT_FAILED"))
    apply(order)  # the reservation arrives late
    assert stock_of(a).reserved == 0
    assert OrderStock.objects.get(order_id=order.aggregate_id).status == OrderStock.RELEASED
    assert not published("catalog.stock_reserved")


@pytest.mark.django_db(transaction=True)
def test_availability_events_only_for_sold_out_and_back():
    a = make_product(2)
    start = len(published("catalog.stock_availability_changed"))
    first, second = placed((a, 1)), placed((a, 1))
    apply(first)
    assert len(published("catalog.stock_availability_changed")) == start  # still in stock
    apply(second)
    apply(OrderCancelled(aggregate_id=second.aggregate_id, aggregate_version=2))
    flips = [e.payload["in_stock"] for e in published("catalog.stock_availability_changed")[start:]]
    assert flips == [False, True]


# --- real concurrency against PostgreSQL ---------------------------------------------------------


def run_threads(count, target):
    errors = []

    def body(index):
        try:
            target(index)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_flash_sale_through_the_real_handler_path_never_oversells(monkeypatch):
    """1,000 orders for 100 units, published through the outbox, relayed, and delivered by 16
    threads at once through the bus (inbox, savepoints, stream locks) into the catalog handler."""
    product = make_product(100)
    monkeypatch.setattr(handler_named("catalog.order_stock"), "partitions", 32)  # many parallel streams
    orders = [placed((product, 1)) for _ in range(1000)]
    for start in range(0, 1000, 50):
        with transaction.atomic():
            for order in orders[start:start + 50]:
                publish(order)
    sends = []
    while relay_once(batch_size=20, sender=sends.extend) > 0:
        pass
    sends = [s for s in sends if s.handler == "catalog.order_stock"]
    assert len(sends) > 200  # small dispatches: lots of concurrent lock traffic
    lock = threading.Lock()

    def worker(_):
        while True:
            with lock:
                if not sends:
                    return
                send = sends.pop()
            while deliver(send.dispatch_id, send.handler, send.partition).busy:
                pass  # another thread holds this stream: try again, as the Celery task does

    assert run_threads(16, worker) == []
    stock = stock_of(product)
    assert (stock.on_hand, stock.reserved, stock.available) == (100, 100, 0)
    statuses = Counter(OrderStock.objects.values_list("status", flat=True))
    assert statuses == {OrderStock.RESERVED: 100, OrderStock.REJECTED: 900}
    assert Reservation.objects.aggregate(total=Sum("quantity"))["total"] == 100
    assert ledger_matches(product)
    assert OutboxEvent.objects.filter(name="catalog.stock_reserved").count() == 100
    assert OutboxEvent.objects.filter(name="catalog.stock_reservation_failed").count() == 900
    assert not Dispatch.objects.filter(handler="catalog.order_stock").exclude(status="done").exists()


@pytest.mark.django_db(transaction=True)
def test_orders_locking_the_same_products_in_opposite_order_do_not_deadlock():
    a, b, c = make_product(10_000), make_product(10_000), make_product(10_000)
    line_orders = [((a, 1), (b, 1), (c, 1)), ((c, 1), (b, 1), (a, 1)), ((b, 1), (a, 1)), ((c, 1), (a, 1))]

    def buyer(index):
        for round_ in range(25):
            lines = line_orders[(index + round_) % len(line_orders)]
            with transaction.atomic():
                services.order_stock_apply([placed(*lines)])
                # hold the locks a moment so that transactions overlap
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.002)")

    errors = run_threads(12, buyer)
    assert errors == []  # PostgreSQL would have raised a DeadlockDetected
    total = sum(len(line_orders[(i + r) % 4]) for i in range(12) for r in range(25))
    assert sum(stock_of(p).reserved for p in (a, b, c)) == total
    assert all(ledger_matches(p) for p in (a, b, c))
