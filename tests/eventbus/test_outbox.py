"""The bus in one process: publish, relay, deliver, dedupe, order, retry, dead letters."""
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from commerce.eventbus import NotInTransaction, deadletters, publish
from commerce.eventbus.delivery import deliver
from commerce.eventbus.models import Dispatch, InboxEntry, OutboxEvent
from commerce.eventbus.relay import lag, prune, relay_all, relay_once, sweep
from tests.eventbus.probe_handlers import ProbeHappened

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probe_table")]


def effects(handler="probe.record"):
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, count(*) FROM probe_effect WHERE handler = %s GROUP BY seq ORDER BY seq",
                       [handler])
        return dict(cursor.fetchall())


def publish_probes(count, *, aggregate="agg-1", start=0):
    with transaction.atomic():
        for seq in range(start, start + count):
            publish(ProbeHappened(aggregate_id=aggregate, aggregate_version=seq, seq=seq))


def deliver_all(sends):
    for send in sends:
        deliver(send.dispatch_id, send.handler, send.partition)


def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(NotInTransaction):
        publish(ProbeHappened(aggregate_id="a", seq=1))
    assert OutboxEvent.objects.count() == 0


def test_published_event_is_stored_with_its_payload_and_metadata():
    event = ProbeHappened(aggregate_id="agg-9", aggregate_version=3, seq=7)
    with transaction.atomic():
        publish(event)
    row = OutboxEvent.objects.get()
    assert row.event_id == event.event_id
    assert (row.name, row.aggregate_id, row.aggregate_version, row.event_version) == ("probe.happened", "agg-9", 3, 1)
    assert row.payload["seq"] == 7 and row.published_at is None


def test_event_of_a_rolled_back_transaction_never_reaches_a_handler(sender):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ProbeHappened(aggregate_id="a", seq=1))
        raise RuntimeError("the use case failed")
    assert relay_all(sender=sender) == 0
    assert sender.take() == [] and effects() == {}


def test_committed_event_reaches_every_subscribed_handler_once(sender):
    publish_probes(5)
    assert relay_all(sender=sender) == 5
    deliver_all(sender.take())
    assert effects("probe.record") == {i: 1 for i in range(5)}
    assert effects("probe.record_batch") == {i: 1 for i in range(5)}
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 0
    assert set(Dispatch.objects.values_list("status", flat=True)) == {"done"}


def test_the_same_dispatch_delivered_twice_has_one_effect(sender):
    publish_probes(3)
    relay_all(sender=sender)
    sends = sender.take()
    deliver_all(sends)
    deliver_all(sends)  # the broker redelivers every message
    assert effects() == {0: 1, 1: 1, 2: 1}


def test_the_same_event_in_two_dispatches_has_one_effect(sender):
    publish_probes(2)
    relay_all(sender=sender)
    deliver_all(sender.take())
    # an operator (or a bug) relays the same rows again
    OutboxEvent.objects.update(published_at=None)
    relay_all(sender=sender)
    deliver_all(sender.take())
    assert effects() == {0: 1, 1: 1}
    assert InboxEntry.objects.filter(handler="probe.record").count() == 2


def test_events_of_one_aggregate_are_handled_in_publish_order_even_if_messages_arrive_reversed(sender):
    for batch in range(3):
        publish_probes(4, start=batch * 4)
        relay_once(batch_size=4, sender=sender)
    sends = [s for s in sender.take() if s.handler == "probe.record"]
    assert len(sends) == 3
    deliver_all(reversed(sends))  # the newest message comes first; it handles the older ones first
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM probe_effect WHERE handler = 'probe.record' ORDER BY handled_at")
        assert [row[0] for row in cursor.fetchall()] == list(range(12))


def test_a_stream_that_fell_behind_is_drained_in_one_delivery_within_the_batch_size(sender, settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "CATCH_UP_EVENTS": 10}
    for batch in range(4):  # four relay runs: four dispatches of 3 events in one stream
        publish_probes(3, start=batch * 3)
        relay_once(batch_size=3, sender=sender)
    sends = [s for s in sender.take() if s.handler == "probe.record"]
    assert len(sends) == 4

    first = deliver(sends[0].dispatch_id, "probe.record", sends[0].partition)
    # its own 3 events, then whole later dispatches while the 10 events allowed last: 3 + 3 + 3
    assert (first.dispatches, first.handled) == (3, 9)
    assert list(effects()) == list(range(9))
    rest = [deliver(s.dispatch_id, "probe.record", s.partition) for s in sends[1:]]
    # the next message finds its own dispatch done and takes the one left after it
    assert [(r.dispatches, r.handled) for r in rest] == [(1, 3), (0, 0), (0, 0)]
    assert effects() == {seq: 1 for seq in range(12)}
    assert not Dispatch.objects.filter(handler="probe.record", status="pending").exists()


def test_two_relays_running_at_once_relay_every_event_once_per_handler(sender):
    publish_probes(400, aggregate="x")
    for i in range(400):
        publish_probes(1, aggregate=f"agg-{i}", start=1000 + i)
    errors = []

    def run_relay():
        try:
            while relay_once(batch_size=50, sender=sender):
                pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT handler, count(*), count(DISTINCT oid) FROM eventbus_dispatch, unnest(outbox_ids) AS oid"
            " GROUP BY handler"
        )
        per_handler = {handler: (total, distinct) for handler, total, distinct in cursor.fetchall()}
    assert per_handler == {"probe.record": (800, 800), "probe.record_batch": (800, 800)}
    deliver_all(sender.take())
    assert sum(effects().values()) == 800 and set(effects().values()) == {1}


def test_a_failing_handler_is_retried_then_dead_lettered_then_replayed(sender, broken_probe, settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "MAX_ATTEMPTS": 3}
    broken_probe.add(1)
    publish_probes(3)
    relay_all(sender=sender)
    deliver_all(sender.take())
    assert effects() == {0: 1, 2: 1}  # the others are not held back by the broken one
    retry = Dispatch.objects.get(handler="probe.record", partition=-1)
    assert (retry.status, retry.attempts) == ("pending", 1)
    assert "probe is broken for seq 1" in retry.last_error
    assert retry.due_at > retry.created_at  # backoff

    for _ in range(2):  # the sweep re-sends it once its backoff is over
        Dispatch.objects.filter(pk=retry.pk).update(due_at=retry.created_at - timedelta(seconds=1))
        assert sweep(sender=sender) == 1
        deliver_all(sender.take())
    retry.refresh_from_db()
    assert (retry.status, retry.attempts) == ("dead", 3)
    assert [d.dispatch_id for d in deadletters.dead_letter_list()] == [retry.pk]
    assert sweep(sender=sender) == 0  # dead letters stay parked

    broken_probe.clear()  # the cause is fixed
    assert deadletters.dead_letter_replay(ids=[retry.pk], sender=sender) == 1
    deliver_all(sender.take())
    retry.refresh_from_db()
    assert retry.status == "done"
    assert effects() == {0: 1, 1: 1, 2: 1}


def test_management_command_lists_replays_and_purges_dead_letters(sender, broken_probe, settings, capsys):
    settings.EVENTBUS = {**settings.EVENTBUS, "MAX_ATTEMPTS": 1}
    broken_probe.add(0)
    publish_probes(1)
    relay_all(sender=sender)
    deliver_all(sender.take())
    dead = Dispatch.objects.get(status="dead")

    call_command("eventbus", "deadletters")
    listing = capsys.readouterr().out
    assert f"#{dead.pk} probe.record events=probe.happened" in listing
    assert "RuntimeError: probe is broken for seq 0" in listing

    broken_probe.clear()
    call_command("eventbus", "replay", str(dead.pk))
    assert "replay: 1 dead letter(s)" in capsys.readouterr().out
    deliver(dead.pk, "probe.record", -1)
    assert effects() == {0: 1}

    broken_probe.add(0)
    publish_probes(1, start=0, aggregate="other")
    relay_all(sender=sender)
    deliver_all(sender.take())
    call_command("eventbus", "purge", "--all")
    assert "purge: 1 dead letter(s)" in capsys.readouterr().out
    assert not Dispatch.objects.filter(status="dead").exists()


def test_sweep_resends_a_dispatch_whose_message_was_lost(sender, settings):
    publish_probes(2)
    relay_all(sender=sender)
    sender.take()  # the broker lost every message
    assert sweep(sender=sender) == 0  # not overdue yet
    Dispatch.objects.update(due_at=OutboxEvent.objects.get(aggregate_version=0).created_at)
    resent = sweep(sender=sender)
    assert resent == 2
    deliver_all(sender.take())
    assert effects() == {0: 1, 1: 1}


def test_lag_reports_backlog_and_age():
    publish_probes(3)
    report = lag()
    assert report["outbox_backlog"] == 3 and report["outbox_oldest_seconds"] >= 0


def test_prune_removes_old_published_rows_but_keeps_what_dead_letters_need(sender, broken_probe, settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "MAX_ATTEMPTS": 1}
    broken_probe.add(1)
    publish_probes(2)
    relay_all(sender=sender)
    deliver_all(sender.take())
    removed = prune(older_than=timedelta(seconds=-60))  # everything counts as old
    assert removed["outbox"] == 1 and removed["inbox"] == 3
    assert list(OutboxEvent.objects.values_list("payload__seq", flat=True)) == [1]
    assert Dispatch.objects.filter(status="dead").count() == 1


def test_max_batch_splits_a_stream_into_ordered_dispatches(sender, monkeypatch):
    from commerce.eventbus.subscriptions import handler_named

    monkeypatch.setattr(handler_named("probe.record_batch"), "max_batch", 3)
    publish_probes(10)
    relay_all(sender=sender)
    sends = [s for s in sender.take() if s.handler == "probe.record_batch"]
    sizes = [len(Dispatch.objects.get(pk=s.dispatch_id).outbox_ids) for s in sends]
    assert sizes == [3, 3, 3, 1]
    deliver_all(reversed(sends))
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM probe_effect WHERE handler = 'probe.record_batch' ORDER BY handled_at, seq")
        assert [row[0] for row in cursor.fetchall()] == list(range(10))


def test_a_dispatch_that_never_completes_becomes_a_dead_letter_after_max_sweeps(sender, settings):
    """A handler that kills its worker never raises, so it never counts an attempt; the sweep
    counts how often it had to send the dispatch again and gives up after MAX_SWEEPS."""
    settings.EVENTBUS = {**settings.EVENTBUS, "MAX_SWEEPS": 3}
    publish_probes(1)
    relay_all(sender=sender)
    sender.take()  # every delivery dies with its worker: nothing is ever done
    dispatch = Dispatch.objects.get(handler="probe.record")
    for expected_sweeps in (1, 2, 3):
        Dispatch.objects.filter(pk=dispatch.pk).update(due_at=dispatch.created_at)
        sweep(sender=sender)
        dispatch.refresh_from_db()
        assert (dispatch.status, dispatch.sweeps) == ("pending", expected_sweeps)
    Dispatch.objects.filter(pk=dispatch.pk).update(due_at=dispatch.created_at)
    sweep(sender=sender)
    dispatch.refresh_from_db()
    assert dispatch.status == "dead"
    assert "not done after 3 re-sends" in dispatch.last_error
    sender.take()

    assert deadletters.dead_letter_replay(ids=[dispatch.pk], sender=sender) == 1
    deliver_all(sender.take())
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.sweeps) == ("done", 0)
    assert effects() == {0: 1}


def test_a_handler_may_allow_more_attempts_than_the_default(sender, broken_probe, settings, monkeypatch):
    from commerce.eventbus.subscriptions import handler_named

    settings.EVENTBUS = {**settings.EVENTBUS, "MAX_ATTEMPTS": 1}
    monkeypatch.setattr(handler_named("probe.record"), "max_attempts", 3)
    broken_probe.add(0)
    publish_probes(1)
    relay_all(sender=sender)
    deliver_all(sender.take())
    retry = Dispatch.objects.get(handler="probe.record", partition=-1)
    assert (retry.status, retry.attempts) == ("pending", 1)  # the default would have given up
