"""Worker processes relay their own commits' events right after the commit, instead of kicking
the relay; within the interval, with the relay busy, or outside a worker they kick as before.
A delivery task delivers the dispatches its handler's events make for its own queues itself."""
import psycopg
import pytest
from celery.signals import worker_process_init
from django.db import OperationalError, connection, transaction

from commerce.eventbus import delivery, publish, relay, signals, tasks
from commerce.eventbus.models import Dispatch, OutboxEvent
from tests.eventbus.probe_handlers import ProbeChained, ProbeHappened

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probe_table")]


@pytest.fixture
def worker(monkeypatch, settings, sender):
    """This test process as a Celery worker process with a 10 s interval; what the relay sends is
    captured instead of reaching the broker."""
    settings.EVENTBUS = {**settings.EVENTBUS, "INLINE_RELAY_MS": 10_000}
    monkeypatch.setattr(relay, "celery_sender", sender)
    monkeypatch.setitem(signals._inline, "enabled", False)
    monkeypatch.setattr(signals._local, "inline_until", 0.0, raising=False)
    worker_process_init.send(sender=None)
    return sender


def commit_probe(seq: int) -> None:
    with transaction.atomic():
        publish(ProbeHappened(aggregate_id="agg-1", aggregate_version=seq, seq=seq))


def unpublished() -> list[int]:
    return sorted(e.payload["seq"] for e in OutboxEvent.objects.filter(published_at__isnull=True))


def test_a_worker_commit_is_relayed_and_sent_before_the_commit_returns(worker, kicks):
    commit_probe(1)
    assert unpublished() == [] and kicks == []
    assert sorted(send.handler for send in worker.take()) == ["probe.record", "probe.record_batch"]


def test_a_second_commit_within_the_interval_kicks_the_relay(worker, kicks):
    commit_probe(1)
    commit_probe(2)
    assert unpublished() == [2] and kicks == [1]
    assert len(worker.take()) == 2  # only the first commit's dispatches


def test_a_commit_finding_the_relay_busy_kicks_it(worker, kicks):
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    with psycopg.connect(**params) as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(%s)", [relay.RELAY_LOCK])  # another relay is running
        commit_probe(1)
    assert unpublished() == [1] and kicks == [1] and worker.take() == []


def test_a_commit_leaving_more_than_a_batch_kicks_the_relay_for_the_rest(worker, kicks, settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "RELAY_BATCH_SIZE": 2}
    with transaction.atomic():
        for seq in range(3):
            publish(ProbeHappened(aggregate_id="agg-1", aggregate_version=seq, seq=seq))
    assert unpublished() == [2] and kicks == [1]


def test_outside_a_worker_process_or_with_the_interval_zero_commits_kick(monkeypatch, settings, kicks, sender):
    monkeypatch.setattr(relay, "celery_sender", sender)
    monkeypatch.setitem(signals._inline, "enabled", False)
    commit_probe(1)  # a web process: never started as a worker
    settings.EVENTBUS = {**settings.EVENTBUS, "INLINE_RELAY_MS": 0}
    worker_process_init.send(sender=None)
    commit_probe(2)
    assert unpublished() == [1, 2] and kicks == [1, 1] and sender.take() == []


@pytest.fixture
def probe_worker(worker, monkeypatch):
    """...consuming the probes' queue."""
    monkeypatch.setitem(signals._inline, "queues", frozenset({"probe"}))
    return worker


def chained_dispatch(sender, seqs) -> relay.Send:
    """A committed ProbeChained per seq (one aggregate), relayed like a web request's commit: the
    dispatch of the chain handler."""
    with transaction.atomic():
        for seq in seqs:
            publish(ProbeChained(aggregate_id="agg-1", aggregate_version=seq, seq=seq))
    relay.relay_once(sender=sender)
    return next(send for send in sender.take() if send.handler == "probe.chain")


def effects() -> dict[str, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT handler, array_agg(seq ORDER BY seq) FROM probe_effect GROUP BY handler")
        return dict(cursor.fetchall())


def test_a_delivery_task_delivers_what_its_events_dispatch_to_its_own_queues_itself(probe_worker, kicks):
    send = chained_dispatch(probe_worker, [1, 2])
    tasks.deliver_task(send.dispatch_id, send.handler, send.partition)
    assert effects() == {"probe.record": [1, 2], "probe.record_batch": [1, 2]}
    assert probe_worker.take() == [] and kicks == []  # no message for the next steps
    assert set(Dispatch.objects.values_list("status", flat=True)) == {"done"}


def test_past_its_steps_a_delivery_task_sends_the_rest(probe_worker, kicks, settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "INLINE_DELIVERY_STEPS": 1}
    send = chained_dispatch(probe_worker, [1])
    tasks.deliver_task(send.dispatch_id, send.handler, send.partition)
    assert len(effects()) == 1  # one of the two follow-up dispatches
    [rest] = probe_worker.take()
    assert rest.handler not in effects() and Dispatch.objects.get(id=rest.dispatch_id).status == "pending"


def test_dispatches_for_queues_the_worker_does_not_consume_are_sent(worker, kicks):
    send = chained_dispatch(worker, [1])
    tasks.deliver_task(send.dispatch_id, send.handler, send.partition)
    assert effects() == {}
    assert sorted(s.handler for s in worker.take()) == ["probe.record", "probe.record_batch"]


def test_a_failing_inline_delivery_still_sends_what_is_left(probe_worker, kicks, monkeypatch):
    send = chained_dispatch(probe_worker, [1])
    real = delivery.deliver

    def fails_after_the_first(dispatch_id, handler, partition):
        if handler != "probe.chain":
            raise OperationalError("the database went away")
        return real(dispatch_id, handler, partition)

    monkeypatch.setattr(delivery, "deliver", fails_after_the_first)
    with pytest.raises(OperationalError):
        tasks.deliver_task(send.dispatch_id, send.handler, send.partition)
    assert [s.handler for s in probe_worker.take()] == ["probe.record_batch"]  # record failed, batch left
