"""write_and_publish: a change and its events in one SQL statement, all or nothing, with the
relay kicked after the change is committed."""
import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from commerce.eventbus import write_and_publish
from commerce.eventbus.models import OutboxEvent
from tests.eventbus.probe_handlers import ProbeHappened

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probe_table")]

INSERT = ("INSERT INTO probe_effect (event_id, handler, seq, aggregate_id, aggregate_version)"
          " VALUES (%s, %s, %s, %s, %s)")


@pytest.fixture
def unique_probe(django_db_blocker):
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("CREATE UNIQUE INDEX IF NOT EXISTS probe_effect_once ON probe_effect (event_id, handler)")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS probe_effect_once")


def rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM probe_effect ORDER BY seq")
        return [r[0] for r in cursor.fetchall()]


def test_outside_a_transaction_the_change_and_its_events_commit_together_and_the_relay_is_kicked(kicks):
    first, second = ProbeHappened(aggregate_id="a", seq=1), ProbeHappened(aggregate_id="a", seq=2)
    write_and_publish(INSERT, [uuid.uuid4(), "h", 1, "a", 1], [first, second])
    assert rows() == [1]
    assert list(OutboxEvent.objects.order_by("id").values_list("event_id", flat=True)) == [
        first.event_id, second.event_id]
    assert kicks == [1]


def test_a_failing_change_writes_no_event(kicks, unique_probe):
    event_id = uuid.uuid4()
    write_and_publish(INSERT, [event_id, "h", 1, "a", 1], [ProbeHappened(aggregate_id="a", seq=1)])
    with pytest.raises(IntegrityError):
        write_and_publish(INSERT, [event_id, "h", 2, "a", 2], [ProbeHappened(aggregate_id="a", seq=2)])
    assert rows() == [1] and OutboxEvent.objects.count() == 1 and kicks == [1]


def test_inside_a_transaction_it_rolls_back_with_it_and_kicks_only_after_a_commit(kicks):
    with pytest.raises(RuntimeError), transaction.atomic():
        write_and_publish(INSERT, [uuid.uuid4(), "h", 1, "a", 1], [ProbeHappened(aggregate_id="a", seq=1)])
        raise RuntimeError("the use case failed")
    assert rows() == [] and OutboxEvent.objects.count() == 0 and kicks == []
    with transaction.atomic():
        write_and_publish(INSERT, [uuid.uuid4(), "h", 3, "a", 3], [ProbeHappened(aggregate_id="a", seq=3)])
        assert kicks == []
    assert rows() == [3] and kicks == [1]


def test_several_statements_run_in_the_one_statement_and_fail_together(kicks, unique_probe):
    one, two = uuid.uuid4(), uuid.uuid4()
    write_and_publish([INSERT, INSERT], [one, "h", 1, "a", 1, two, "h", 2, "a", 2],
                      [ProbeHappened(aggregate_id="a", seq=1)])
    assert rows() == [1, 2] and OutboxEvent.objects.count() == 1
    with pytest.raises(IntegrityError):  # the second one conflicts: the first one's row goes too
        write_and_publish([INSERT, INSERT], [uuid.uuid4(), "h", 3, "a", 3, two, "h", 4, "a", 4],
                          [ProbeHappened(aggregate_id="a", seq=3)])
    assert rows() == [1, 2] and OutboxEvent.objects.count() == 1 and kicks == [1]


def test_with_when_the_events_and_the_dependent_statements_wait_for_the_guarding_change(kicks):
    guarded_insert = ("INSERT INTO probe_effect (event_id, handler, seq, aggregate_id, aggregate_version)"
                      " SELECT %s, 'h', %s, 'a', 1 WHERE %s RETURNING seq")
    follower = ("INSERT INTO probe_effect (event_id, handler, seq, aggregate_id, aggregate_version)"
                " SELECT %s, 'follower', seq + 100, 'a', 1 FROM change0")
    refused = ProbeHappened(aggregate_id="a", seq=1)
    assert write_and_publish([guarded_insert, follower], [uuid.uuid4(), 1, False, uuid.uuid4()], [refused],
                             when=0) is False
    assert rows() == [] and OutboxEvent.objects.count() == 0 and kicks == []
    taken = ProbeHappened(aggregate_id="a", seq=2)
    assert write_and_publish([guarded_insert, follower], [uuid.uuid4(), 2, True, uuid.uuid4()], [taken],
                             when=0) is True
    assert rows() == [2, 102]
    assert list(OutboxEvent.objects.values_list("event_id", flat=True)) == [taken.event_id] and kicks == [1]
    with pytest.raises(ValueError):
        write_and_publish(INSERT, [uuid.uuid4(), "h", 3, "a", 3], [taken], when=1)
