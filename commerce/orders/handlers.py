"""The orders context's reactions: stock, payment and delivery events move the saga on."""
from commerce.delivery.events import DeliveryStatusChanged
from commerce.eventbus import subscribe
from commerce.orders import saga, services

TRACKING_QUEUE = "tracking"
MONEY_EVENTS = tuple(e for e in saga.SAGA_EVENTS if e is not DeliveryStatusChanged)


# Two batch handlers, one per kind of news: a batch locks its orders once, in id order, and
# publishes what they say next in one round trip. Events are partitioned by their own aggregate
# (order, payment or delivery id), so two streams may hold events of one order: the row lock orders
# them, and the state machine accepts them in any order it can meet them in.
#
# The stock and payment events that take an order to CONFIRMED have streams of their own, so they
# never queue behind delivery tracking (four status changes per order): in a 120 s run at 150
# orders/s with the carrier's fast clock, one handler for both confirmed at p99 21 s, the two at
# p99 9.8 s (docs/orders.md). Two partitions, as for the catalog's and payments' order handlers:
# with the default two worker processes, more streams only made smaller batches (at 130 orders/s:
# 6.7 instead of 9.7 ms of worker CPU per order with 2).
@subscribe(*MONEY_EVENTS, handler="orders.saga", queue="orders", batch=True, partitions=2, max_batch=100)
def on_saga_event(events) -> None:
    services.orders_apply(events)


# Delivery tracking: the order's deliveryStatus read model, and COMPLETED on DELIVERED. Up to 500
# events a batch: with one partition and 100 it fell 8-15 s behind at 600 status changes a second.
# On the tracking queue (the Procfile's shipping worker, below the saga's workers in priority):
# its large batches kept one of the saga's two worker processes busy while confirmations waited.
@subscribe(DeliveryStatusChanged, handler="orders.delivery", queue=TRACKING_QUEUE, batch=True, partitions=2,
           max_batch=500)
def on_delivery_status_changed(events) -> None:
    services.orders_apply(events)
