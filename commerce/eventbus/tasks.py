"""Celery entry points of the bus. Thin: the work is in relay.py and delivery.py.
Relay, sweep and prune run on the default queue ("eventbus"); deliveries go to the handler's queue."""
from celery import shared_task

from commerce.eventbus import delivery, relay


@shared_task(name="eventbus.relay", ignore_result=True)
def relay_task() -> int:
    return relay.relay_all()


@shared_task(name="eventbus.deliver", ignore_result=True)
def deliver_task(dispatch_id: int, handler: str, partition: int) -> None:
    delivery.deliver(dispatch_id, handler, partition)


@shared_task(name="eventbus.sweep", ignore_result=True)
def sweep_task() -> int:
    return relay.sweep()


@shared_task(name="eventbus.prune", ignore_result=True)
def prune_task() -> dict:
    return relay.prune()
