"""Payments from request to settlement: the bus delivers OrderPaymentRequested, the processor
charges through the real simulator over HTTP (outside any transaction) and records the answer
with its event. The processor's database work runs on its own thread, hence real transactions."""
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from commerce.orders.events import OrderRefundRequested
from commerce.payments import services
from commerce.payments.breaker import gateway_breaker
from commerce.payments.models import Payment, PaymentRequest
from tests.payments.conftest import (
    DECLINED_CARD,
    INSUFFICIENT_FUNDS_CARD,
    PROCESSING_ERROR_CARD,
    deliver_events,
    payment_requested,
    process_until,
    published,
    run_processor,
)

pytestmark = pytest.mark.django_db(transaction=True)


def request_payments(buyer, method, count=1, **kwargs):
    events = [payment_requested(buyer.id, method["methodId"], **kwargs) for _ in range(count)]
    deliver_events(*events)
    return [Payment.objects.get(order_id=e.aggregate_id) for e in events]


def test_a_payment_request_records_one_pending_payment_and_a_repeat_is_a_no_op(gateway, add_method, buyer):
    method = add_method(buyer)
    event = payment_requested(buyer.id, method["methodId"], amount="5000.00")
    deliver_events(event, event)  # the same event twice
    repeat = payment_requested(buyer.id, method["methodId"], order_id=event.aggregate_id)  # same request again
    deliver_events(repeat)
    payment = Payment.objects.get(order_id=event.aggregate_id)
    assert (payment.status, payment.amount, payment.buyer_id, payment.calls) == ("PENDING", 5000, buyer.id, 0)
    assert gateway.stats()["calls"].get("charges", 0) == 0  # recording never calls the gateway


def test_a_batch_of_mixed_events_is_applied_in_order_with_the_one_event_rules(gateway, add_method, buyer,
                                                                            make_member):
    method, stranger = add_method(buyer), make_member()
    known = payment_requested(buyer.id, method["methodId"])
    deliver_events(known)
    new = [payment_requested(buyer.id, method["methodId"]) for _ in range(5)]
    foreign = payment_requested(stranger.id, method["methodId"])  # not the stranger's method
    cancelled = payment_requested(buyer.id, method["methodId"])
    deliver_events(new[0], new[1], known, foreign, new[2], cancelled, new[3], new[3], new[4])
    payment = Payment.objects.get(order_id=cancelled.aggregate_id)
    deliver_events(refund_requested(payment), payment_requested(buyer.id, method["methodId"],
                                                                order_id=cancelled.aggregate_id, version=2))
    assert Payment.objects.filter(order_id=known.aggregate_id).count() == 1
    assert [Payment.objects.get(order_id=e.aggregate_id).status for e in new] == ["PENDING"] * 5
    failed = Payment.objects.get(order_id=foreign.aggregate_id)
    assert (failed.status, failed.failure_reason) == ("FAILED", "PAYMENT_METHOD_UNUSABLE")
    assert published("payments.payment_failed", aggregate_id=str(failed.id))
    # cancelled before it was charged; the later request for the closed order starts nothing
    assert list(Payment.objects.filter(order_id=cancelled.aggregate_id).values_list("status", "failure_reason")) == [
        ("FAILED", "CANCELLED")]
    assert Payment.objects.count() == 8
    assert gateway.stats()["calls"] == {"tokens": 1}


def test_an_approved_card_ends_approved_with_its_event_and_one_charge(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer), amount="12900.00")
    run_processor()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason, payment.version) == ("APPROVED", "", 2)
    [event] = published("payments.payment_approved", aggregate_id=str(payment.id))
    assert event.payload["order_id"] == str(payment.order_id) and event.payload["buyer_id"] == str(buyer.id)
    assert (event.payload["amount"], event.payload["currency"], event.aggregate_version) == ("12900.00", "KRW", 2)
    [charge] = gateway.succeeded_charges(reference=str(payment.order_id))
    assert (charge["chargeId"], charge["amount"], charge["idempotencyKey"]) == (
        payment.charge_id, "12900.00", f"payment-{payment.id}")


@pytest.mark.parametrize(("card", "reason"), [(DECLINED_CARD, "DECLINED"),
                                              (INSUFFICIENT_FUNDS_CARD, "INSUFFICIENT_FUNDS")])
def test_a_declined_card_ends_declined_with_the_reason(gateway, add_method, buyer, card, reason):
    [payment] = request_payments(buyer, add_method(buyer, card))
    run_processor()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("DECLINED", reason)
    [event] = published("payments.payment_declined", aggregate_id=str(payment.id))
    assert event.payload["reason"] == reason and event.payload["order_id"] == str(payment.order_id)
    assert not published("payments.payment_approved")
    assert gateway.succeeded_charges() == []


def test_a_processing_error_is_retried_then_fails(gateway, add_method, buyer, settings):
    [payment] = request_payments(buyer, add_method(buyer, PROCESSING_ERROR_CARD))
    run_processor()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("FAILED", "PROCESSING_ERROR")
    assert payment.calls == payment.processing_errors == settings.PAYMENTS["MAX_PROCESSING_ERRORS"] == 3
    assert gateway.stats()["calls"]["charges"] == 3
    [event] = published("payments.payment_failed", aggregate_id=str(payment.id))
    assert event.payload["reason"] == "PROCESSING_ERROR"


def test_a_gateway_that_times_out_once_charges_exactly_once(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer))
    gateway.faults(mode="timeout", times=1)  # the first call is carried out but its answer is lost
    stats = run_processor()
    payment.refresh_from_db()
    assert payment.status == "APPROVED" and payment.calls == 2
    assert stats.outcomes == {"unavailable": 1, "approved": 1}
    assert len(gateway.succeeded_charges(reference=str(payment.order_id))) == 1
    assert len(published("payments.payment_approved")) == 1


def test_5xx_answers_are_retried_with_the_same_key(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer))
    gateway.faults(mode="error", times=2)
    run_processor()
    payment.refresh_from_db()
    assert payment.status == "APPROVED" and payment.calls == 3
    assert [c["idempotencyKey"] for c in gateway.charges()] == [f"payment-{payment.id}"]


def test_an_outage_opens_the_breaker_and_the_backlog_is_charged_once_when_the_gateway_is_back(
        gateway, add_method, buyer):
    method = add_method(buyer)
    gateway.faults(mode="down")
    payments = request_payments(buyer, method, count=40)
    stats = run_processor(max_in_flight=16, max_seconds=3, idle_seconds=3)
    assert gateway_breaker().state() in ("open", "half-open")
    assert Payment.objects.filter(status="PENDING").count() == 40
    assert Payment.objects.filter(processing_errors__gt=0).count() == 0
    # before the breaker opened: at most the 16 in flight and the 10 that trip it; then at most one
    # probe per 0.5 s open period (without the breaker, 40 payments retried every 0.1-0.5 s make ~300)
    down_calls = gateway.stats()["calls"]["charges"]
    assert stats.unavailable == down_calls and down_calls <= 16 + 10 + 3 / 0.5 + 1
    assert Payment.objects.filter(calls=0).count() >= 40 - down_calls  # the rest never called

    gateway.faults(mode="ok")
    # the breaker lets a probe through within 0.5 s, then the backlog drains
    process_until(lambda: Payment.objects.filter(status="APPROVED").count() == 40, max_in_flight=16)
    charged = sorted(c["reference"] for c in gateway.succeeded_charges())
    assert charged == sorted(str(p.order_id) for p in payments)  # each order once
    assert len(published("payments.payment_approved")) == 40
    assert gateway_breaker().state() == "closed"


def test_past_the_deadline_a_waiting_payment_fails_and_nothing_is_charged_later(gateway, add_method, buyer,
                                                                                 settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "DEADLINE_SECONDS": 1.5}
    method = add_method(buyer)
    gateway.faults(mode="down")
    request_payments(buyer, method, count=5)
    process_until(lambda: not Payment.objects.filter(status="PENDING").exists())
    assert {p.status for p in Payment.objects.all()} == {"FAILED"}
    assert {p.failure_reason for p in Payment.objects.all()} == {"GATEWAY_UNAVAILABLE"}
    assert len(published("payments.payment_failed", reason="GATEWAY_UNAVAILABLE")) == 5

    gateway.faults(mode="ok")
    process_until(lambda: not Payment.objects.exclude(action="").exists())  # the reversals owed
    assert gateway.succeeded_charges() == []
    assert {p.status for p in Payment.objects.all()} == {"FAILED"}
    # every payment whose charge calls may have reached the gateway had its key reversed
    assert gateway.stats()["reversedKeys"] == Payment.objects.filter(calls__gt=1).count() > 0


def test_a_charge_made_before_the_deadline_whose_answer_was_lost_is_reversed(gateway, add_method, buyer,
                                                                             settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "DEADLINE_SECONDS": 1.2}
    [payment] = request_payments(buyer, add_method(buyer))
    gateway.faults(mode="timeout")  # every call is carried out, no answer arrives in time
    # the last call starts before the deadline and times out about 1 s later; the sweep after it fails it
    process_until(lambda: Payment.objects.get(id=payment.id).status != "PENDING")
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("FAILED", "GATEWAY_UNAVAILABLE")
    assert len(gateway.succeeded_charges()) == 1  # the gateway did take the money
    gateway.faults(mode="ok")
    process_until(lambda: Payment.objects.get(id=payment.id).action == "")
    assert [r["reference"] for r in gateway.refunds()] == [str(payment.order_id)]  # and gave it back
    payment.refresh_from_db()
    assert payment.status == "FAILED" and payment.action == ""


def refund_requested(payment):
    return OrderRefundRequested(aggregate_id=str(payment.order_id), aggregate_version=9,
                                payment_id=str(payment.id), reason="cancelled")


def test_a_refund_request_gives_an_approved_payment_back(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer))
    run_processor()
    deliver_events(refund_requested(payment))
    deliver_events(refund_requested(payment))  # asked twice: one refund
    run_processor()
    payment.refresh_from_db()
    assert (payment.status, payment.version) == ("REFUNDED", 3)
    [event] = published("payments.payment_refunded", aggregate_id=str(payment.id))
    assert (event.payload["amount"], event.aggregate_version) == ("12900.00", 3)
    [refund] = gateway.refunds()
    assert (refund["chargeId"], refund["refundId"]) == (payment.charge_id, payment.refund_id)


def test_a_refund_request_for_a_payment_never_sent_cancels_it_without_a_gateway_call(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer))
    deliver_events(refund_requested(payment))
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason, payment.action) == ("FAILED", "CANCELLED", "")
    [event] = published("payments.payment_failed", aggregate_id=str(payment.id))
    assert event.payload["reason"] == "CANCELLED"
    run_processor()
    assert gateway.stats()["calls"] == {"tokens": 1}
    assert PaymentRequest.objects.get(order_id=payment.order_id).closed is True


def charge_claimed(item):
    """Make the claimed call as the processor does, over the real adapter."""
    import asyncio

    from commerce.payments.gateway import payment_gateway
    from commerce.payments.processor import _call

    async def call():
        async with payment_gateway().session(max_in_flight=1) as session:
            return await _call(session, item)

    return asyncio.run(call())


def test_a_refund_request_while_the_charge_is_in_flight_refunds_it_after_approval(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer))
    [item] = services.payments_claim(10)  # a processor has claimed it and is calling the gateway
    deliver_events(refund_requested(payment))
    payment.refresh_from_db()
    assert (payment.status, payment.cancel_requested) == ("PENDING", True)
    services.payment_results_record([(item, charge_claimed(item))])  # the call it was making succeeded
    run_processor()  # then the owed refund is made
    payment.refresh_from_db()
    assert payment.status == "REFUNDED"
    assert [e.name for e in published("payments.payment_approved") + published("payments.payment_refunded")] == [
        "payments.payment_approved", "payments.payment_refunded"]
    assert len(gateway.succeeded_charges()) == len(gateway.refunds()) == 1


def test_a_cancelled_payment_whose_processor_died_mid_call_is_reversed(gateway, add_method, buyer):
    [payment] = request_payments(buyer, add_method(buyer))
    [item] = services.payments_claim(10)
    charge_claimed(item)  # the gateway charged, but the processor died before recording it
    deliver_events(refund_requested(payment))
    Payment.objects.filter(id=payment.id).update(lease_until=timezone.now() - timedelta(seconds=1))  # lease over
    run_processor()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason, payment.action) == ("FAILED", "CANCELLED", "")
    assert published("payments.payment_failed", aggregate_id=str(payment.id), reason="CANCELLED")
    [charge] = gateway.succeeded_charges()
    assert [r["chargeId"] for r in gateway.refunds()] == [charge["chargeId"]]  # the money went back


def test_a_payment_whose_method_is_no_longer_usable_fails_at_once(gateway, add_method, buyer, buyer_client):
    method = add_method(buyer)
    buyer_client.post(f"/payment/methods/{method['methodId']}", {"active": False}, format="json")
    [payment] = request_payments(buyer, method)
    assert (payment.status, payment.failure_reason) == ("FAILED", "PAYMENT_METHOD_UNUSABLE")
    assert published("payments.payment_failed", aggregate_id=str(payment.id))


def test_two_processors_at_once_charge_every_payment_once(gateway, add_method, buyer):
    import threading

    method = add_method(buyer)
    gateway.faults(latency_ms=20)
    request_payments(buyer, method, count=120)
    errors = []

    def one():
        try:
            run_processor(max_in_flight=32)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            from django.db import connection
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Payment.objects.filter(status="APPROVED").count() == 120
    assert gateway.stats()["calls"]["charges"] == 120  # no payment was claimed twice
    assert len(gateway.succeeded_charges()) == 120
    with transaction.atomic():
        assert len(published("payments.payment_approved")) == 120



def test_without_the_breakers_redis_payments_are_still_charged_and_recorded(gateway, add_method, buyer):
    import redis

    from commerce.payments.breaker import CircuitBreaker
    from tests.support.processes import free_port

    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.2, socket_timeout=0.2)
    breaker = CircuitBreaker(unreachable, "gateway", failures=10, open_seconds=1, window_seconds=10, probe_seconds=2)
    payments = request_payments(buyer, add_method(buyer), count=3)
    run_processor(breaker=breaker)
    assert {p.status for p in Payment.objects.filter(id__in=[p.id for p in payments])} == {"APPROVED"}
    assert len(gateway.succeeded_charges()) == 3


def test_a_request_with_a_malformed_method_id_fails_the_payment_instead_of_the_handler(add_method, buyer):
    from commerce.eventbus.models import Dispatch

    method = add_method(buyer)
    good = payment_requested(buyer.id, method["methodId"])
    bad = payment_requested(buyer.id, "not-a-uuid")
    deliver_events(good, bad)
    assert Payment.objects.get(order_id=good.aggregate_id).status == "PENDING"
    failed = Payment.objects.get(order_id=bad.aggregate_id)
    assert (failed.status, failed.failure_reason) == ("FAILED", "PAYMENT_METHOD_UNUSABLE")
    assert published("payments.payment_failed", aggregate_id=str(failed.id))
    assert not Dispatch.objects.filter(handler="payments.order_payment").exclude(status="done").exists()


def wait_for(condition, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.fixture
def listening_processor():
    """A processor loop on its own thread with a 30 s poll, listening, and stopped afterwards
    (``max_seconds`` 0, then a wake-up), even when the test failed."""
    import threading

    from django.db import connection

    from commerce.payments.processor import Processor

    processor = Processor(poll_seconds=30, idle_seconds=60, max_seconds=60)
    runs = []

    def run():
        try:
            runs.append(processor.run())
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    processor.thread, processor.runs = thread, runs
    try:
        wait_for(lambda: processor.listening, "the processor never listened")
        time.sleep(0.2)  # its first claim (nothing due yet) is over: it waits now
        yield processor
    finally:
        if thread.is_alive():
            processor.max_seconds = 0
            with transaction.atomic():
                services.processors_wake()
            thread.join(10)


def test_a_waiting_processor_is_woken_by_a_new_payment_instead_of_its_poll(gateway, add_method, buyer,
                                                                            listening_processor):
    """With a 30 s poll, only the NOTIFY sent by the request's transaction can get the payment
    charged within seconds; a rolled-back transaction's notification never arrives."""
    method = add_method(buyer)
    [payment] = request_payments(buyer, method)
    wait_for(lambda: Payment.objects.get(id=payment.id).status != Payment.PENDING,
             "the new payment waited for the poll", timeout=5)
    assert Payment.objects.get(id=payment.id).status == Payment.APPROVED
    assert gateway.stats()["calls"]["charges"] == 1

    listening_processor.max_seconds = 0  # the next wake-up ends the loop
    with transaction.atomic():
        services.processors_wake()
        transaction.set_rollback(True)
    time.sleep(0.5)  # a window for a wrong wake-up to show
    assert listening_processor.thread.is_alive(), "a rolled-back transaction woke the processor"
    with transaction.atomic():
        services.processors_wake()
    listening_processor.thread.join(10)
    assert not listening_processor.thread.is_alive() and listening_processor.runs[0].claimed == 1


def test_a_processor_whose_listening_connection_is_killed_listens_again(gateway, add_method, buyer,
                                                                        listening_processor):
    from django.db import connection

    method = add_method(buyer)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE query = 'LISTEN payments_due' AND pid <> pg_backend_pid()")
        assert cursor.rowcount == 1
    wait_for(lambda: not listening_processor.listening, "the lost connection went unnoticed")
    wait_for(lambda: listening_processor.listening, "the processor did not listen again")
    [payment] = request_payments(buyer, method)
    wait_for(lambda: Payment.objects.get(id=payment.id).status != Payment.PENDING, "not woken")
    assert Payment.objects.get(id=payment.id).status == Payment.APPROVED
