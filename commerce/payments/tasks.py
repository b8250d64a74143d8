"""Celery entry point of the processor (queue ``payments_processor``, its own worker in the Procfile,
so that a busy loop never holds a slot the event bus needs). Beat sends ``payments.process`` every
second; at most ``PAYMENTS["PROCESSORS"]`` run at once across all workers (Redis slots), each
until it has been idle for a while, so a busy system keeps its loops and an idle one costs a
claim query a second."""
import logging
import os
import socket

from celery import shared_task
from django.conf import settings

from commerce.payments.breaker import redis_client
from commerce.payments.processor import Processor

log = logging.getLogger(__name__)


def _acquire_slot() -> str | None:
    conf = settings.PAYMENTS
    client = redis_client(conf["REDIS_URL"])
    ttl = int(conf["PROCESSOR_MAX_SECONDS"] + conf["GATEWAY_TIMEOUT_SECONDS"] + 30)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    for slot in range(conf["PROCESSORS"]):
        key = f"payments:processor-slot:{slot}"
        if client.set(key, owner, nx=True, ex=ttl):
            return key
    return None


# the loop gives way to an overloaded web tier after each of its steps, not once at its end
@shared_task(name="payments.process", ignore_result=True, queue="payments_processor", yields_inside=True)
def process_task() -> dict | None:
    slot = _acquire_slot()
    if slot is None:
        return None  # enough processors are running
    try:
        stats = Processor().run()
    finally:
        redis_client(settings.PAYMENTS["REDIS_URL"]).delete(slot)
    if stats.claimed or stats.expired:
        log.info("payments: processed %d calls (%s), %d expired, %.1f s given way to the web tier",
                 stats.claimed, stats.outcomes, stats.expired, stats.paused_seconds)
    return {"claimed": stats.claimed, "expired": stats.expired}
