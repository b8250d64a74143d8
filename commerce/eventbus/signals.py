"""The post-commit kick: wake the relay soon after a commit instead of waiting for its periodic run.

Kicks are debounced over a short window (``KICK_WINDOW_MS``) with two Redis flags, so a stream of
commits makes at most two relay runs per window, each claiming a real batch:

- the first commit of a window sets the *leading* flag and relays at once;
- a later commit in the window sets the *trailing* flag and relays after a countdown that ends
  after that flag expires, so it sees the commit;
- a commit that finds both flags set is covered by the trailing relay, which has not run yet.

The flags are checked and set by one script, which also says how long a pending trailing flag
lives; the trailing relay runs after that, so until then a thread's later commits are covered and
skip Redis altogether: under load a web process talks to Redis about once per window instead of
once or twice per request.

Losing a kick (broker down, crash) only delays events until the periodic relay (1 s).

In a Celery worker process (a handler's delivery, a payment processor's answers), the commit
does not kick: it runs the relay itself, right after the commit, at most once per
``INLINE_RELAY_MS`` per thread (0 turns this off). The saga's next event is then dispatched
without queueing a relay task behind the worker's deliveries; the relay keeps its one-at-a-time
lock, so dispatch order is unchanged. A commit that finds the relay busy, more rows than one batch,
or its thread inside the interval kicks as above.

Inside a delivery task (``collecting_dispatches``), the interval does not apply, and the
dispatches that relay makes for queues this worker consumes are not sent: the task delivers them
itself next (``tasks.deliver_task``), so a saga's steps run one after the other in one process
instead of each queueing behind the worker's other messages. If the process dies first, the
sweep re-sends them past their deadline, as for any lost message.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager

import redis
from django.conf import settings

log = logging.getLogger(__name__)

LEADING_FLAG = "eventbus:relay-kick:leading"
TRAILING_FLAG = "eventbus:relay-kick:trailing"
_local = threading.local()
# set in Celery worker processes (worker_started): relay inline; the queues this process consumes
_inline: dict = {"enabled": False, "queues": frozenset()}


def worker_started(**_) -> None:
    """Celery's ``worker_process_init``: this process's commits relay inline (see above)."""
    from celery import current_app

    _inline["enabled"] = settings.EVENTBUS["INLINE_RELAY_MS"] > 0
    _inline["queues"] = frozenset(current_app.amqp.queues.consume_from or ())


@contextmanager
def collecting_dispatches():
    """Within: the inline relay keeps the dispatches for this process's own queues in the list
    yielded, in dispatch order, instead of sending them; the caller delivers or sends them."""
    collected: list = []
    outer = getattr(_local, "collected", None)
    _local.collected = collected
    try:
        yield collected
    finally:
        _local.collected = outer


def _send_or_collect(sends) -> None:
    from commerce.eventbus import relay

    collected = getattr(_local, "collected", None)
    if collected is None:
        relay.celery_sender(sends)
        return
    own = [send for send in sends if send.queue in _inline["queues"]]
    collected.extend(own)
    relay.celery_sender([send for send in sends if send.queue not in _inline["queues"]])


def redis_client() -> redis.Redis:
    client = getattr(_local, "client", None)
    if client is None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        _local.client = client
    return client


# one round trip: which flag this commit set, or how long the pending trailing relay's flag lives
_KICK = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {1, 0} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return {2, tonumber(ARGV[1])} end
return {0, redis.call('PTTL', KEYS[2])}
"""


def after_commit() -> None:
    """What a commit that published events does next: relay inline, or kick."""
    if not (_inline["enabled"] and _relayed_inline()):
        kick_relay()


def _relayed_inline() -> bool:
    """Relay now unless this thread did within ``INLINE_RELAY_MS``; whether that covered the
    commit (the relay was free and claimed everything there was)."""
    now = time.monotonic()
    collecting = getattr(_local, "collected", None) is not None
    if now < getattr(_local, "inline_until", 0.0) and not collecting:
        return False
    _local.inline_until = now + settings.EVENTBUS["INLINE_RELAY_MS"] / 1000
    from commerce.eventbus import relay

    try:
        batch_size = relay.conf("RELAY_BATCH_SIZE")
        return 0 <= relay.relay_once(batch_size=batch_size, sender=_send_or_collect) < batch_size
    except Exception as exc:
        log.warning("eventbus: inline relay failed (%s); kicking the relay instead", exc)
        return False


def kick_relay() -> None:
    window_ms = settings.EVENTBUS["KICK_WINDOW_MS"]
    now = time.monotonic()
    if now < getattr(_local, "covered_until", 0.0):
        return  # a trailing relay known to this thread runs after now
    try:
        script = getattr(_local, "script", None)
        if script is None:
            script = _local.script = redis_client().register_script(_KICK)
        flag, trailing_ms = script(keys=[LEADING_FLAG, TRAILING_FLAG], args=[window_ms])
        if flag == 0:
            # covered by the pending trailing relay, which runs after its flag expires: so are
            # this thread's commits until shortly before that
            _local.covered_until = now + max(trailing_ms, 0) * 0.9 / 1000
            return
        from commerce.eventbus.tasks import relay_task

        relay_task.apply_async(countdown=(window_ms + 10) / 1000 if flag == 2 else None, retry=False)
        if flag == 2:
            _local.covered_until = now + trailing_ms * 0.9 / 1000
    except Exception as exc:  # the periodic relay covers us; never fail the caller after its commit
        log.warning("eventbus: relay kick lost (%s); the periodic relay will pick the events up", exc)
