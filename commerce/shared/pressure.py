"""Background work yields while the web tier is overloaded.

On a small box the web tier and the background (Celery workers, payment processors) share the
cores. Under a burst of orders the background's work (the saga, the relay, payments) takes CPU
and PostgreSQL time the web tier needs, the web workers fall behind, their listen queue fills and
the burst collapses into timeouts. Nice values cannot prevent that: the background's PostgreSQL
backends run at the web tier's priority. So the background gives way itself:

- at the end of a request, at most every ``REPORT_MS``, each web worker writes how many
  connections wait in the server's listen queue, not yet taken by any worker (``QueueMeter``,
  around the WSGI application):
  ``HSET pressure:web <worker> "<unix time> <waiting>"``;
- a background process reads the largest of the reports younger than ``FRESH_MS`` (at most once
  every ``READ_CACHE_MS``; a worker that stopped reporting is idle and does not count) and
  *yields* from when it exceeds ``ENGAGE`` until it falls below ``RELEASE`` (hysteresis);
- yielding means sleeping ``FACTOR`` times as long as the work it just did (at most
  ``MAX_PAUSE_MS``): a Celery task after it ran (``task_postrun``), the payment processor after each
  step of its loop. Its own PostgreSQL time is part of that work, so the database gets the same
  relief. The work waits; nothing is dropped, and the backlog is worked off after the burst.

A queue, not the workers' busy share, is the signal: on a busy box the workers are "busy" waiting
for a core at rates they keep up with, and yielding then only delays the saga (docs/orders.md,
thirteenth round). ``ENGAGE`` 0 turns it all off; so does running without Redis.
"""
from __future__ import annotations

import logging
import os
import socket
import struct
import threading
import time

import redis
from django.conf import settings

log = logging.getLogger(__name__)

KEY = "pressure:web"
FORGET_SECONDS = 60.0  # reports older than this are deleted by the readers (restarted workers)
WARN_EVERY_SECONDS = 60.0


def _conf() -> dict:
    return settings.PRESSURE


_local = threading.local()


def _client() -> redis.Redis:
    client = getattr(_local, "client", None)
    if client is None:  # one per thread, short timeouts: a slow Redis must not hold a request
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.2, socket_connect_timeout=0.2,
                                      decode_responses=True)
        _local.client = client
    return client


class _Warner:
    """Log a Redis failure at most once a minute per process."""

    def __init__(self) -> None:
        self.last = -WARN_EVERY_SECONDS

    def __call__(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self.last >= WARN_EVERY_SECONDS:
            self.last = now
            log.warning("pressure: %s failed (%s)", what, exc)


_warn = _Warner()


def worker_name() -> str:
    """This web worker's field in the hash: host and uWSGI worker id (pid outside uWSGI)."""
    try:
        import uwsgi  # noqa: PLC0415 - only inside the uWSGI server

        ident = f"w{uwsgi.worker_id()}"
    except ImportError:
        ident = f"p{os.getpid()}"
    return f"{socket.gethostname()}:{ident}"


_listening: list[socket.socket] = []


def uwsgi_listen_queue() -> int | None:
    """Connections waiting in the accept queue of uWSGI's listening sockets; None outside uWSGI.

    Read from the kernel (``TCP_INFO`` of a listening socket: ``tcpi_unacked`` is its accept
    queue's length on Linux), since ``uwsgi.listen_queue()`` is only kept up to date in the master."""
    try:
        import uwsgi  # noqa: PLC0415 - only inside the uWSGI server
    except ImportError:
        return None
    if not _listening:
        _listening.extend(socket.socket(fileno=os.dup(fd)) for fd in uwsgi.sockets)
    return sum(struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104), 24)[0]
               for sock in _listening)


class QueueMeter:
    """WSGI middleware: reports the web server's listen queue to Redis after requests."""

    def __init__(self, app, *, queue=uwsgi_listen_queue, clock=time.monotonic, wall=time.time) -> None:
        self.app = app
        self.queue = queue
        self.clock = clock
        self.wall = wall
        self.reported_at = -1e9
        self.name: str | None = None

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        finally:
            now, conf = self.clock(), _conf()
            if conf["ENGAGE"] > 0 and (now - self.reported_at) * 1000 >= conf["REPORT_MS"]:
                self.reported_at = now
                self.report()

    def report(self) -> None:
        # runs after the response is made: whatever goes wrong here must not turn it into an error
        try:
            waiting = self.queue()
            if waiting is None:
                return
            if self.name is None:
                self.name = worker_name()
            _client().hset(KEY, self.name, f"{self.wall():.3f} {waiting}")
        except (redis.RedisError, OSError) as exc:  # OSError: a listening socket that is not TCP
            _warn("reporting the web tier's listen queue", exc)


def read_pressure() -> float:
    """Connections waiting for a web worker: the largest report younger than ``FRESH_MS`` (0 if none)."""
    now = time.time()
    fresh = _conf()["FRESH_MS"] / 1000
    reports = _client().hgetall(KEY)
    waiting, forgotten = [], []
    for name, value in reports.items():
        try:
            at, queued = (float(part) for part in value.split())
        except ValueError:
            forgotten.append(name)
            continue
        if now - at <= fresh:
            waiting.append(queued)
        elif now - at > FORGET_SECONDS:
            forgotten.append(name)
    if forgotten:
        _client().hdel(KEY, *forgotten)
    return max(waiting, default=0.0)


class Yielder:
    """Whether a background process should give way now, and for how long (one per process)."""

    def __init__(self, *, clock=time.monotonic, sleep=time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self.engaged = False
        self.pressure = 0.0
        self.read_at = -1e9
        self.paused_seconds = 0.0  # in all

    def refresh(self) -> bool:
        conf = _conf()
        if conf["ENGAGE"] <= 0:
            self.engaged = False
            return False
        now = self.clock()
        if (now - self.read_at) * 1000 >= conf["READ_CACHE_MS"]:
            self.read_at = now
            try:
                self.pressure = read_pressure()
            except redis.RedisError as exc:
                _warn("reading the web tier's listen queue", exc)
                self.pressure = 0.0
            was = self.engaged
            self.engaged = self.pressure >= conf["RELEASE"] if was else self.pressure > conf["ENGAGE"]
            if self.engaged != was:
                log.info("pressure: %d connections wait for the web tier, background %s", self.pressure,
                         "yields" if self.engaged else "resumes")
        return self.engaged

    def pause_for(self, worked_seconds: float) -> float:
        """Seconds to give way after ``worked_seconds`` of work: 0 unless the web tier is overloaded."""
        if worked_seconds <= 0 or not self.refresh():
            return 0.0
        conf = _conf()
        return min(conf["FACTOR"] * worked_seconds, conf["MAX_PAUSE_MS"] / 1000)

    def after_work(self, worked_seconds: float) -> float:
        """Sleep as ``pause_for`` says; returns the time slept."""
        pause = self.pause_for(worked_seconds)
        if pause > 0:
            self.sleep(pause)
            self.paused_seconds += pause
        return pause


_yielder = Yielder()
_task_started: dict[str, float] = {}


def task_started(task_id=None, **_) -> None:
    """Celery's ``task_prerun``."""
    if task_id is not None:
        _task_started[task_id] = time.monotonic()


def task_finished(task_id=None, task=None, **_) -> None:
    """Celery's ``task_postrun``: give way for a multiple of the task's time while the web tier is
    overloaded. Long-running loops (the payment processor) yield inside themselves instead."""
    started = _task_started.pop(task_id, None)
    if started is None or getattr(task, "yields_inside", False):
        return
    _yielder.after_work(time.monotonic() - started)
