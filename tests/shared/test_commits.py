"""commit_without_flush against the real database: asynchronous commit for one transaction only,
and the rule of commerce/shared/commits.py kept by its users: outcomes recorded after a call to
the outside world commit without the flush, the claims made before such a call wait for it."""
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from commerce.delivery import services as delivery
from commerce.delivery.carrier import Booking
from commerce.payments import services as payments
from commerce.shared.commits import commit_without_flush


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_only_the_transaction_it_is_called_in_commits_without_the_flush():
    assert synchronous_commit() == "on"
    with transaction.atomic():
        commit_without_flush()
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"  # the session's setting is untouched


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses_instead_of_changing_the_session():
    with pytest.raises(RuntimeError):
        commit_without_flush()
    assert synchronous_commit() == "on"


def settings_in_transactions(action) -> list[str]:
    """Run ``action`` and return, for each statement it sent, the synchronous_commit value it ran
    under, read on the same connection right after it (statement order kept)."""
    seen: list[str] = []

    def after_each(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "synchronous_commit" not in sql and not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('synchronous_commit')")
                seen.append(cursor.fetchone()[0])
        return result

    with connection.execute_wrapper(after_each):
        action()
    return seen


@pytest.mark.django_db(transaction=True)
def test_carrier_outcomes_commit_without_the_flush_and_the_claim_waits_for_it():
    work = delivery.CarrierWork(delivery_id=uuid.uuid4(), todo="send", address={}, lines=[], attempts=1)
    for record in (lambda: delivery.carrier_work_booked(work, Booking(tracking_number="SIM1", status="ACCEPTED")),
                   lambda: delivery.carrier_work_failed(work, error="timeout"),
                   lambda: delivery.carrier_work_rejected(work, error="bad address"),
                   lambda: delivery.carrier_work_cancelled(work, cancelled=True)):
        seen = settings_in_transactions(record)
        assert seen and set(seen) == {"off"}
    seen = settings_in_transactions(lambda: delivery.carrier_work_claim(limit=10))
    assert seen and set(seen) == {"on"}


@pytest.mark.django_db(transaction=True)
def test_payment_results_commit_without_the_flush_and_the_claim_waits_for_it():
    item = payments.WorkItem(payment_id=uuid.uuid4(), action="charge", token="tok", amount=Decimal("1.00"),
                             currency="KRW", order_id=uuid.uuid4(), charge_id="", lease_token=uuid.uuid4())
    seen = settings_in_transactions(lambda: payments.payment_results_record([(item, None)]))
    assert seen and set(seen) == {"off"}
    seen = settings_in_transactions(lambda: payments.payments_claim(10))
    assert seen and set(seen) == {"on"}
