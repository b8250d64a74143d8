"""Background work yields while the web tier is busy.

On a small box the web tier and the background (Celery workers, payment processors) share the
cores. Under a burst of orders the background's work (the saga, the relay, payments) takes the
CPU and the PostgreSQL time the web tier needs to answer within its budget, the web workers fall
behind, and their listen queue fills. Nice values cannot fix that: the background's PostgreSQL
backends run at the web tier's priority. So the background gives way itself:

- every web worker measures the share of wall time it spends in requests (``BusyMeter``, around
  the WSGI application) and writes it to Redis at the end of a request, at most every
  ``REPORT_MS``: ``HSET pressure:web <worker> "<unix time> <fraction>"``;
- a background process reads the mean over the reports younger than ``FRESH_MS`` (at most once
  every ``READ_CACHE_MS``; a web worker that stopped reporting is idle and does not count) and
  *yields* while it is above ``ENGAGE``, until it falls below ``RELEASE`` (hysteresis);
- yielding means sleeping ``FACTOR`` times as long as the work it just did (at most
  ``MAX_PAUSE_MS``): a Celery task after it ran (``task_postrun``), the payment processor after each
  step of its loop. Its own PostgreSQL time is part of that work, so the database gets the same
  relief. The work waits; nothing is dropped, and the backlog is worked off once the burst is over.

At the saga's steady rates the web tier is far below ``ENGAGE`` and nothing yields. ``ENGAGE`` 0
turns it all off. Without Redis the web tier does not report and the background does not yield.
"""
from __future__ import annotations

import logging
import os
import socket
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


class BusyMeter:
    """WSGI middleware: the share of wall time this worker spends in requests, sent to Redis."""

    def __init__(self, app, *, clock=time.monotonic, wall=time.time) -> None:
        self.app = app
        self.clock = clock
        self.wall = wall
        self.window_started = clock()
        self.busy = 0.0
        self.name: str | None = None

    def __call__(self, environ, start_response):
        started = self.clock()
        try:
            return self.app(environ, start_response)
        finally:
            now = self.clock()
            self.busy += now - started
            if _conf()["ENGAGE"] > 0 and (now - self.window_started) * 1000 >= _conf()["REPORT_MS"]:
                self.report(now)

    def report(self, now: float) -> None:
        elapsed = now - self.window_started
        fraction = min(1.0, self.busy / elapsed) if elapsed > 0 else 0.0
        self.window_started, self.busy = now, 0.0
        if self.name is None:
            self.name = worker_name()
        try:
            _client().hset(KEY, self.name, f"{self.wall():.3f} {fraction:.3f}")
        except redis.RedisError as exc:
            _warn("reporting the web tier's load", exc)


def read_pressure(*, now: float | None = None) -> float:
    """Mean busy fraction of the web workers that reported within ``FRESH_MS`` (0 if none)."""
    now = time.time() if now is None else now
    fresh = _conf()["FRESH_MS"] / 1000
    reports = _client().hgetall(KEY)
    fractions, forgotten = [], []
    for name, value in reports.items():
        try:
            at, fraction = (float(part) for part in value.split())
        except ValueError:
            forgotten.append(name)
            continue
        if now - at <= fresh:
            fractions.append(fraction)
        elif now - at > FORGET_SECONDS:
            forgotten.append(name)
    if forgotten:
        _client().hdel(KEY, *forgotten)
    return sum(fractions) / len(fractions) if fractions else 0.0


class Yielder:
    """Whether a background process should give way now, and for how long (one per process)."""

    def __init__(self, *, clock=time.monotonic, sleep=time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self.engaged = False
        self.pressure = 0.0
        self.read_at = -1e9
        self.paused_seconds = 0.0  # in all, for the logs and the benchmarks

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
                _warn("reading the web tier's load", exc)
                self.pressure = 0.0
            was = self.engaged
            self.engaged = self.pressure >= conf["RELEASE"] if was else self.pressure > conf["ENGAGE"]
            if self.engaged != was:
                log.info("pressure: web tier %.0f%% busy, background %s", 100 * self.pressure,
                         "yields" if self.engaged else "resumes")
        return self.engaged

    def pause_for(self, worked_seconds: float) -> float:
        """Seconds to give way after ``worked_seconds`` of work: 0 unless the web tier is busy."""
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
    busy. Long-running loops (the payment processor) yield inside themselves instead."""
    started = _task_started.pop(task_id, None)
    if started is None or getattr(task, "yields_inside", False):
        return
    _yielder.after_work(time.monotonic() - started)
