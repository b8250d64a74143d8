"""The orders context's reactions: stock, payment and delivery events move the saga on."""
from commerce.eventbus import subscribe
from commerce.orders import saga, services


# One batch handler for all of them: a batch locks its orders once, in id order, and publishes
# what they say next in one round trip. Events are partitioned by their own aggregate (order,
# payment or delivery id), so two partitions may hold events of one order: the row lock orders
# them, and the state machine accepts them in any order it can meet them in. Two partitions, as
# for the catalog's and payments' order handlers: with the default two worker processes, more
# streams only made smaller batches (at 130 orders/s: 6.7 instead of 9.7 ms of worker CPU per
# order with 2; docs/orders.md).
@subscribe(*saga.SAGA_EVENTS, handler="orders.saga", queue="orders", batch=True, partitions=2, max_batch=100)
def on_saga_event(events) -> None:
    services.orders_apply(events)
