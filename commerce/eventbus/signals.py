"""The post-commit kick: wake the relay soon after a commit instead of waiting for its periodic run.

Kicks are debounced over a short window (``KICK_WINDOW_MS``) with two Redis flags, so a stream of
commits makes at most two relay runs per window, each claiming a real batch:

- the first commit of a window sets the *leading* flag and relays at once;
- a later commit in the window sets the *trailing* flag and relays after a countdown that ends
  after that flag expires, so it sees the commit;
- a commit that finds both flags set is covered by the trailing relay, which has not run yet.

Losing a kick (broker down, crash) only delays events until the periodic relay (1 s).
"""
from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings

log = logging.getLogger(__name__)

LEADING_FLAG = "eventbus:relay-kick:leading"
TRAILING_FLAG = "eventbus:relay-kick:trailing"
_local = threading.local()


def redis_client() -> redis.Redis:
    client = getattr(_local, "client", None)
    if client is None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        _local.client = client
    return client


def kick_relay() -> None:
    window_ms = settings.EVENTBUS["KICK_WINDOW_MS"]
    try:
        client = redis_client()
        if client.set(LEADING_FLAG, b"1", nx=True, px=window_ms):
            countdown = None
        elif client.set(TRAILING_FLAG, b"1", nx=True, px=window_ms):
            countdown = (window_ms + 10) / 1000
        else:
            return
        from commerce.eventbus.tasks import relay_task

        relay_task.apply_async(countdown=countdown, retry=False)
    except Exception as exc:  # the periodic relay covers us; never fail the caller after its commit
        log.warning("eventbus: relay kick lost (%s); the periodic relay will pick the events up", exc)
