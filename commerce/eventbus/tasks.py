"""Celery entry points of the bus. Thin: the work is in relay.py and delivery.py.
Relay, sweep and prune run on the default queue ("eventbus"); deliveries go to the handler's queue."""
from celery import shared_task
from django.conf import settings

from commerce.eventbus import delivery, relay, signals, subscriptions

BUSY_RETRY_SECONDS = 0.05


@shared_task(name="eventbus.relay", ignore_result=True, expires=30)
def relay_task() -> int:
    return relay.relay_all()


@shared_task(name="eventbus.deliver", ignore_result=True)
def deliver_task(dispatch_id: int, handler: str, partition: int) -> None:
    """Deliver one dispatch, then (up to ``INLINE_DELIVERY_STEPS``) the dispatches its handler's
    events made for this worker's own queues (see ``signals.collecting_dispatches``); whatever is
    left over is sent to the broker."""
    steps = settings.EVENTBUS["INLINE_DELIVERY_STEPS"]
    with signals.collecting_dispatches() as collected:
        try:
            _deliver(dispatch_id, handler, partition)
            while collected and steps > 0:
                steps -= 1
                send = collected.pop(0)
                _deliver(send.dispatch_id, send.handler, send.partition)
        finally:
            relay.celery_sender(collected)


def _deliver(dispatch_id: int, handler: str, partition: int) -> None:
    result = delivery.deliver(dispatch_id, handler, partition)
    if result.busy:  # another worker is on this stream right now
        deliver_task.apply_async(args=(dispatch_id, handler, partition), countdown=BUSY_RETRY_SECONDS,
                                 queue=subscriptions.handler_named(handler).queue)


@shared_task(name="eventbus.sweep", ignore_result=True)
def sweep_task() -> int:
    return relay.sweep()


@shared_task(name="eventbus.prune", ignore_result=True)
def prune_task() -> dict:
    return relay.prune()
