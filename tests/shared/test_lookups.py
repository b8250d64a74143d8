"""commerce.shared.lookups: several contexts' read-only lookups sent to PostgreSQL in one round trip."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.utils import ProgrammingError

from commerce.shared.lookups import Lookup, run, run_together


def first_value(rows):
    return rows[0][0]


@pytest.mark.django_db(transaction=True)  # autocommit, as in a request: each round trip its own transaction
def test_lookups_sent_together_share_one_round_trip_and_answer_in_order():
    """Outside a transaction each round trip of its own commits on its own; lookups sent together
    run in one implicit transaction (one Sync), so they see the same transaction start time."""
    together = run_together(
        Lookup("SELECT now(), %s::int", [1], lambda rows: rows[0]),
        Lookup.answered("known"),
        Lookup("SELECT now(), %s::int FROM pg_sleep(0.02)", [2], lambda rows: rows[0]),
        Lookup("SELECT now(), %s::int", [3], lambda rows: rows[0]),
    )
    assert [together[0][1], together[1], together[2][1], together[3][1]] == [1, "known", 2, 3]
    assert together[0][0] == together[2][0] == together[3][0]
    # the same queries one after another: separate transactions, later start times
    apart = [run(Lookup("SELECT now() FROM pg_sleep(0.02)", [], first_value)) for _ in range(2)]
    assert apart[0] < apart[1]


@pytest.mark.django_db
def test_then_reads_the_answer_on_and_an_empty_result_reads_as_no_rows():
    doubled = Lookup("SELECT x FROM generate_series(1, 3) x", [], lambda rows: [r[0] for r in rows]).then(
        lambda xs: [2 * x for x in xs])
    none = Lookup("SELECT 1 WHERE false", [], lambda rows: rows[0] if rows else None)
    assert run_together(doubled, none) == [[2, 4, 6], None]


@pytest.mark.django_db
def test_answered_lookups_ask_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert run_together(Lookup.answered(None), Lookup.answered(7)) == [None, 7]


@pytest.mark.django_db(transaction=True)
def test_a_failing_lookup_raises_django_s_error_and_the_connection_stays_usable():
    with pytest.raises(ProgrammingError):
        run_together(Lookup("SELECT 1", [], first_value), Lookup("SELECT * FROM no_such_table", [], first_value))
    assert run_together(Lookup("SELECT 41 + 1", [], first_value), Lookup("SELECT 'ok'", [], first_value)) == [42, "ok"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
