"""The bus with real Celery worker processes: lost kicks, a flushed broker, a killed worker."""
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from commerce.eventbus import publish, signals
from tests.eventbus.probe_handlers import ProbeHappened
from tests.support.processes import start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probe_table"), pytest.mark.e2e]


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()  # no stale messages from earlier tests
    yield client
    client.flushdb()


@pytest.fixture
def workers():
    started = []

    def start(name, **env):
        child = start_worker(name, **env)
        started.append(child)
        return child

    yield start
    for child in started:
        child.stop()


def handled(handler="probe.record"):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT event_id) FROM probe_effect WHERE handler = %s", [handler])
        return cursor.fetchone()


def publish_stream(count, *, per_transaction=10):
    for start in range(0, count, per_transaction):
        with transaction.atomic():
            for seq in range(start, min(start + per_transaction, count)):
                publish(ProbeHappened(aggregate_id=f"agg-{seq % 37}", aggregate_version=seq, seq=seq))


def assert_every_event_handled_once(count, child, timeout=90):
    def done():
        assert child.alive(), child.tail()
        return handled("probe.record")[0] >= count and handled("probe.record_batch")[0] >= count

    wait_until(done, timeout=timeout, what=f"{count} events handled by both probes", interval=0.25)
    assert handled("probe.record") == (count, count)
    assert handled("probe.record_batch") == (count, count)


def test_committed_event_is_delivered_when_the_post_commit_kick_is_lost(broker, workers, monkeypatch):
    worker = workers("kickless")
    monkeypatch.setattr(signals, "kick_relay", lambda: None)  # the kick never leaves this process
    publish_stream(5)
    assert_every_event_handled_once(5, worker, timeout=30)  # the periodic relay found them


def test_flushing_the_broker_while_events_are_in_flight_loses_nothing(broker, workers):
    worker = workers("flushed", EVENTBUS_DELIVERY_DEADLINE_SECONDS="3", PROBE_HANDLER_SLEEP="0.003")
    publish_stream(200)
    wait_until(lambda: handled()[0] > 0, timeout=30, what="the first events to be handled")
    broker.flushdb()  # Redis restarted without persistence: queued and unacked messages are gone
    publish_stream(100)
    broker.flushdb()
    assert_every_event_handled_once(300, worker)


def test_killing_the_worker_mid_flight_loses_nothing_and_doubles_nothing(broker, workers):
    env = {"EVENTBUS_DELIVERY_DEADLINE_SECONDS": "3", "PROBE_HANDLER_SLEEP": "0.005"}
    first = workers("doomed", **env)
    publish_stream(400)
    wait_until(lambda: handled()[0] > 20, timeout=30, what="the first events to be handled")
    first.kill()
    assert handled()[0] < 400, "the worker finished before it could be killed; make the probe slower"
    second = workers("successor", **env)
    assert_every_event_handled_once(400, second)
