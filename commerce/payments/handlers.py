"""The payments context's reactions to orders' events. Handlers run inside the bus's transaction,
so they only record: the gateway is called later by the processor (processor.py)."""
from commerce.eventbus import subscribe
from commerce.orders.events import OrderPaymentRequested, OrderRefundRequested
from commerce.payments import services


# Both events in one handler: one order's requests and refunds reach it in publish order (one
# stream per order id). Batches: new requests are recorded a batch at a time (about 270 requests/s
# one by one through the bus, see docs/payments.md). Up to 30 attempts: a database hiccup must not
# lose a payment request.
@subscribe(OrderPaymentRequested, OrderRefundRequested, handler="payments.order_payment", queue="payments",
           batch=True, partitions=2, max_batch=200, max_attempts=30)
def on_order_payment_events(events) -> None:
    services.order_payment_events_apply(events)
