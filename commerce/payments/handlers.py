"""The payments context's reactions to orders' events. Handlers run inside the bus's transaction,
so they only record: the gateway is called later by the processor (processor.py)."""
from commerce.eventbus import subscribe
from commerce.orders.events import OrderPaymentRequested, OrderRefundRequested
from commerce.payments import services


# Both events in one handler: one order's requests and refunds reach it in publish order (one
# stream per order id). Up to 30 attempts: a database hiccup must not lose a payment request.
@subscribe(OrderPaymentRequested, OrderRefundRequested, handler="payments.order_payment", queue="payments",
           partitions=4, max_attempts=30)
def on_order_payment_event(event) -> None:
    if isinstance(event, OrderPaymentRequested):
        services.payment_request_record(event)
    else:
        services.refund_request(event)
