"""Background work gives way to an overloaded web tier (commerce/shared/pressure.py), against the
real Redis, a real uWSGI server and Celery's own task signals."""
from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import redis
from celery import shared_task
from django.conf import settings

from commerce.shared import pressure
from tests.support.processes import free_port, start_web, wait_until


def reports_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


@pytest.fixture(autouse=True)
def no_reports():
    reports_redis().delete(pressure.KEY)
    yield
    reports_redis().delete(pressure.KEY)


def report(name: str, waiting: int, *, age: float = 0.0) -> None:
    reports_redis().hset(pressure.KEY, name, f"{time.time() - age:.3f} {waiting}")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_web_worker_reports_the_listen_queue_after_requests_at_most_every_report_ms():
    clock, waiting = Clock(), [7]

    def app(environ, start_response):
        clock.now += 0.05
        return [b""]

    meter = pressure.QueueMeter(app, queue=lambda: waiting[0], clock=clock)
    meter({}, None)
    reports = reports_redis().hgetall(pressure.KEY)
    assert list(reports) == [pressure.worker_name()]
    at, queued = (float(part) for part in reports[pressure.worker_name()].split())
    assert queued == 7
    assert abs(at - time.time()) < 5

    waiting[0] = 30
    meter({}, None)  # 50 ms later: within REPORT_MS, not reported
    assert reports_redis().hget(pressure.KEY, pressure.worker_name()).split()[1] == "7"
    clock.now += 0.2
    meter({}, None)
    assert reports_redis().hget(pressure.KEY, pressure.worker_name()).split()[1] == "30"


def test_a_request_that_raises_is_reported_and_the_error_goes_on():
    def app(environ, start_response):
        raise RuntimeError("boom")

    meter = pressure.QueueMeter(app, queue=lambda: 3, clock=Clock())
    with pytest.raises(RuntimeError):
        meter({}, None)
    assert reports_redis().hget(pressure.KEY, pressure.worker_name()).split()[1] == "3"


def test_a_failing_report_leaves_the_response_alone(monkeypatch):
    def no_tcp_info():
        raise OSError(95, "Operation not supported")  # e.g. a UNIX listening socket

    meter = pressure.QueueMeter(lambda environ, start_response: [b"body"], queue=no_tcp_info, clock=Clock())
    assert meter({}, None) == [b"body"]
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    monkeypatch.setattr(pressure, "_client", lambda: dead)
    meter = pressure.QueueMeter(lambda environ, start_response: [b"body"], queue=lambda: 5, clock=Clock())
    assert meter({}, None) == [b"body"]


def test_nothing_is_reported_outside_uwsgi_or_when_turned_off(settings):
    assert pressure.uwsgi_listen_queue() is None  # the test process is no uWSGI worker
    pressure.QueueMeter(lambda environ, start_response: [b""], clock=Clock())({}, None)
    settings.PRESSURE = {**settings.PRESSURE, "ENGAGE": 0}
    pressure.QueueMeter(lambda environ, start_response: [b""], queue=lambda: 50, clock=Clock())({}, None)
    assert reports_redis().hgetall(pressure.KEY) == {}


def test_the_pressure_is_the_largest_fresh_report_and_old_ones_are_forgotten():
    report("a", 9)
    report("b", 12, age=0.5)
    report("idle", 300, age=5)  # stopped reporting: idle since, not counted
    report("gone", 300, age=120)  # a worker that was restarted: deleted
    reports_redis().hset(pressure.KEY, "garbled", "not a report")
    assert pressure.read_pressure() == 12
    assert sorted(reports_redis().hkeys(pressure.KEY)) == ["a", "b", "idle"]


def test_no_reports_is_no_pressure():
    assert pressure.read_pressure() == 0.0


def yielder() -> tuple[pressure.Yielder, Clock, list[float]]:
    clock, slept = Clock(), []
    return pressure.Yielder(clock=clock, sleep=slept.append), clock, slept


def test_the_background_yields_above_engage_until_below_release_for_a_multiple_of_its_work(settings):
    settings.PRESSURE = {**settings.PRESSURE, "ENGAGE": 16, "RELEASE": 4, "FACTOR": 4, "MAX_PAUSE_MS": 1000,
                         "READ_CACHE_MS": 100}
    y, clock, slept = yielder()

    def at(waiting: int) -> float:
        report("w", waiting)
        clock.now += 0.2  # past the read cache
        return y.after_work(0.01)

    assert at(16) == 0  # not overloaded enough to start
    assert at(17) == pytest.approx(0.04)  # four times the work
    assert at(10) == pytest.approx(0.04)  # between the thresholds: keeps yielding
    assert at(4) == pytest.approx(0.04)
    assert at(3) == 0  # below RELEASE: resumes
    assert at(10) == 0  # and needs ENGAGE again to yield
    assert slept == pytest.approx([0.04] * 3)
    assert y.paused_seconds == pytest.approx(0.12)

    report("w", 40)
    clock.now += 0.2
    assert y.after_work(2.0) == pytest.approx(1.0)  # capped at MAX_PAUSE_MS
    assert y.after_work(0) == 0  # nothing done, nothing owed


def test_the_pressure_is_read_at_most_once_per_read_cache(settings):
    settings.PRESSURE = {**settings.PRESSURE, "READ_CACHE_MS": 100}
    y, clock, slept = yielder()
    report("w", 40)
    assert y.after_work(0.01) > 0
    report("w", 0)
    clock.now += 0.05
    assert y.after_work(0.01) > 0  # still the cached reading
    clock.now += 0.06
    assert y.after_work(0.01) == 0


def test_the_background_does_not_yield_when_turned_off_or_without_redis(settings, monkeypatch):
    report("w", 40)
    settings.PRESSURE = {**settings.PRESSURE, "ENGAGE": 0}
    y, _, slept = yielder()
    assert y.after_work(0.05) == 0

    settings.PRESSURE = {**settings.PRESSURE, "ENGAGE": 16}
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    monkeypatch.setattr(pressure, "_client", lambda: dead)
    y, _, slept = yielder()
    assert y.after_work(0.05) == 0
    assert slept == []


@shared_task(name="tests.pressure.work")
def work(seconds: float) -> None:
    time.sleep(seconds)


@shared_task(name="tests.pressure.loop", yields_inside=True)
def loop(seconds: float) -> None:
    time.sleep(seconds)


def timed(task, seconds: float) -> float:
    started = time.monotonic()
    task.apply(args=(seconds,))  # runs through Celery's tracer, which sends task_prerun/postrun
    return time.monotonic() - started


def test_a_celery_task_gives_way_after_it_ran_while_the_web_tier_is_overloaded(settings):
    settings.PRESSURE = {**settings.PRESSURE, "FACTOR": 4, "MAX_PAUSE_MS": 1000}
    pressure._yielder.read_at = -1e9
    assert timed(work, 0.05) < 0.2  # nothing queued

    report("w", 40)
    pressure._yielder.read_at = -1e9
    assert timed(work, 0.05) >= 0.25  # the task's 50 ms and four times that
    # a loop that yields inside itself is not held again at its end
    assert timed(loop, 0.05) < 0.2

    report("w", 0)
    pressure._yielder.read_at = -1e9
    assert timed(work, 0.05) < 0.2


def hammer(port: int, seconds: float, threads: int) -> int:
    done = []

    def run():
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=10) as response:
                    response.read()
            except urllib.error.HTTPError as error:
                error.read()
            done.append(1)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return len(done)


@pytest.mark.e2e
def test_the_web_server_reports_its_listen_queue_and_stops_counting_when_idle():
    port = free_port()
    web = start_web(port)  # two workers
    try:
        seen: list[float] = []
        sampler = threading.Thread(target=lambda: [seen.append(pressure.read_pressure()) or time.sleep(0.05)
                                                   for _ in range(30)])
        sampler.start()
        # twelve clients on two workers: whenever both are in a request, connections wait
        assert hammer(port, 1.5, threads=12) > 10, web.tail()
        sampler.join()
        reports = reports_redis().hgetall(pressure.KEY)
        assert reports, web.tail()
        assert all(name.startswith(f"{socket.gethostname()}:w") for name in reports), reports
        assert max(seen) >= 1, (seen, reports)
        wait_until(lambda: pressure.read_pressure() == 0.0, timeout=5, what="idle workers to stop counting")
    finally:
        web.stop()
