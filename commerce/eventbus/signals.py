"""The post-commit kick: wake the relay at once instead of waiting for its periodic run.

A Redis flag (SET NX) keeps a burst of commits down to one relay task: the relay clears the flag
before it claims rows, so a commit that lands after a claim always finds the flag clear and
kicks again. Losing a kick (broker down, crash) only delays events until the periodic run.
"""
from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings

log = logging.getLogger(__name__)

KICK_FLAG = "eventbus:relay-kick"
_local = threading.local()


def redis_client() -> redis.Redis:
    client = getattr(_local, "client", None)
    if client is None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        _local.client = client
    return client


def kick_relay() -> None:
    try:
        if redis_client().set(KICK_FLAG, b"1", nx=True, ex=10):
            from commerce.eventbus.tasks import relay_task

            relay_task.apply_async(retry=False)
    except Exception as exc:  # the periodic relay covers us; never fail the caller after its commit
        log.warning("eventbus: relay kick lost (%s); the periodic relay will pick the events up", exc)


def clear_kick() -> None:
    try:
        redis_client().delete(KICK_FLAG)
    except Exception as exc:
        log.warning("eventbus: could not clear the relay kick flag (%s)", exc)
