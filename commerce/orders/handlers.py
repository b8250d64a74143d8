"""The orders context's reactions: stock, payment and delivery events move the saga on."""
from commerce.eventbus import subscribe
from commerce.orders import saga, services


# One batch handler for all of them: a batch locks its orders once, in id order, and publishes
# what they say next in one round trip. Events are partitioned by their own aggregate (order,
# payment or delivery id), so two partitions may hold events of one order: the row lock orders
# them, and the state machine accepts them in any order it can meet them in.
@subscribe(*saga.SAGA_EVENTS, handler="orders.saga", queue="orders", batch=True, partitions=4, max_batch=100)
def on_saga_event(events) -> None:
    services.orders_apply(events)
