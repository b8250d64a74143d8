"""POST /payment/process-payment and GET /payment/payments/{id}: only for the order's buyer,
no second charge for a payment under way, a new attempt after a decline, Idempotency-Key."""
import uuid

import pytest

from commerce.orders.events import OrderRefundRequested
from commerce.payments.models import Payment, PaymentIdempotencyKey
from tests.payments.conftest import DECLINED_CARD, deliver_events, payment_requested

pytestmark = pytest.mark.django_db


@pytest.fixture
def requested(gateway, add_method, buyer):
    """An order of ``buyer`` whose payment was requested (one PENDING payment)."""
    method = add_method(buyer)
    event = payment_requested(buyer.id, method["methodId"], amount="30000.00")
    deliver_events(event)
    return event, method


def process(client, order_id, method_id, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/payment/process-payment", {"orderId": str(order_id), "methodId": str(method_id)},
                       format="json", **headers)


def settle(order_id, status, reason=""):
    Payment.objects.filter(order_id=order_id).update(status=status, failure_reason=reason, action="", due_at=None)


def test_a_pending_payment_is_answered_without_a_second_attempt(requested, buyer_client):
    event, method = requested
    payment = Payment.objects.get(order_id=event.aggregate_id)
    response = process(buyer_client, event.aggregate_id, method["methodId"])
    assert response.status_code == 202
    assert response.json() == {"paymentId": str(payment.id), "status": "PENDING"}
    assert Payment.objects.filter(order_id=event.aggregate_id).count() == 1


@pytest.mark.parametrize("status", ["APPROVED", "REFUNDED"])
def test_an_approved_or_refunded_payment_is_answered_as_it_is(requested, buyer_client, status):
    event, method = requested
    settle(event.aggregate_id, status)
    response = process(buyer_client, event.aggregate_id, method["methodId"])
    assert response.status_code == 202 and response.json()["status"] == status
    assert Payment.objects.filter(order_id=event.aggregate_id).count() == 1


@pytest.mark.parametrize("status", ["DECLINED", "FAILED"])
def test_after_a_decline_or_failure_a_new_attempt_starts_with_the_given_method(requested, buyer_client, add_method,
                                                                               buyer, status):
    event, _ = requested
    settle(event.aggregate_id, status, "DECLINED")
    other = add_method(buyer, DECLINED_CARD)
    response = process(buyer_client, event.aggregate_id, other["methodId"])
    assert response.status_code == 202 and response.json()["status"] == "PENDING"
    latest = Payment.objects.get(id=response.json()["paymentId"])
    assert (latest.attempt, str(latest.method_id), latest.amount, latest.action) == (
        2, other["methodId"], 30000, "charge")


def test_a_new_attempt_needs_a_usable_method_of_the_buyer(requested, buyer_client, add_method, make_member,
                                                          client_for):
    event, method = requested
    settle(event.aggregate_id, "DECLINED", "DECLINED")
    strangers = add_method(make_member())
    for method_id in (strangers["methodId"], uuid.uuid4()):
        response = process(buyer_client, event.aggregate_id, method_id)
        assert response.status_code == 400 and "methodId" in response.json()["errors"]
    buyer_client.post(f"/payment/methods/{method['methodId']}", {"active": False}, format="json")
    assert process(buyer_client, event.aggregate_id, method["methodId"]).status_code == 400
    assert Payment.objects.filter(order_id=event.aggregate_id).count() == 1


def test_an_order_not_requested_or_someone_elses_is_404(requested, make_member, client_for, buyer_client):
    event, method = requested
    stranger = client_for(make_member())
    assert process(stranger, event.aggregate_id, method["methodId"]).status_code == 404
    response = process(buyer_client, uuid.uuid4(), method["methodId"])
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_an_order_whose_refund_was_requested_takes_no_new_attempt(requested, buyer_client):
    event, method = requested
    payment = Payment.objects.get(order_id=event.aggregate_id)
    deliver_events(OrderRefundRequested(aggregate_id=event.aggregate_id, aggregate_version=5,
                                        payment_id=str(payment.id), reason="cancelled"))
    assert Payment.objects.get(id=payment.id).status == "FAILED"
    assert process(buyer_client, event.aggregate_id, method["methodId"]).status_code == 409


@pytest.mark.parametrize("body", [{}, {"orderId": "x", "methodId": str(uuid.uuid4())}, {"orderId": 5}, []])
def test_bad_input_is_a_400_problem(gateway, buyer_client, body):
    response = buyer_client.post("/payment/process-payment", body, format="json")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


def test_the_same_key_and_body_answers_the_first_response_and_another_body_is_409(requested, buyer_client,
                                                                                  add_method, buyer):
    event, method = requested
    settle(event.aggregate_id, "DECLINED", "DECLINED")
    first = process(buyer_client, event.aggregate_id, method["methodId"], key="pay-1")
    settle(event.aggregate_id, "DECLINED", "DECLINED")  # the new attempt was declined too
    again = process(buyer_client, event.aggregate_id, method["methodId"], key="pay-1")
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert Payment.objects.filter(order_id=event.aggregate_id).count() == 2  # no third attempt
    other = process(buyer_client, event.aggregate_id, add_method(buyer)["methodId"], key="pay-1")
    assert other.status_code == 409
    # a fresh key starts the third attempt
    assert process(buyer_client, event.aggregate_id, method["methodId"], key="pay-2").json()["paymentId"] != (
        first.json()["paymentId"])


def test_keys_are_scoped_to_the_member_and_a_refused_request_does_not_use_its_key(requested, buyer_client,
                                                                                  make_member, client_for):
    event, method = requested
    stranger = client_for(make_member())
    assert process(stranger, event.aggregate_id, method["methodId"], key="shared").status_code == 404
    assert process(buyer_client, event.aggregate_id, method["methodId"], key="shared").status_code == 202
    assert PaymentIdempotencyKey.objects.count() == 1
    assert process(buyer_client, event.aggregate_id, method["methodId"], key="x" * 201).status_code == 400


def test_a_payment_is_shown_to_its_buyer_only(requested, buyer_client, make_member, client_for):
    event, _ = requested
    payment = Payment.objects.get(order_id=event.aggregate_id)
    response = buyer_client.get(f"/payment/payments/{payment.id}")
    assert response.status_code == 200
    body = response.json()
    assert body == {"paymentId": str(payment.id), "orderId": event.aggregate_id, "methodId": str(payment.method_id),
                    "amount": "30000.00", "currency": "KRW", "status": "PENDING", "failureReason": None,
                    "createdAt": body["createdAt"], "updatedAt": body["updatedAt"]}
    assert body["createdAt"].endswith("Z")
    assert client_for(make_member()).get(f"/payment/payments/{payment.id}").status_code == 404
    assert buyer_client.get(f"/payment/payments/{uuid.uuid4()}").status_code == 404
    settle(event.aggregate_id, "DECLINED", "INSUFFICIENT_FUNDS")
    assert buyer_client.get(f"/payment/payments/{payment.id}").json()["failureReason"] == "INSUFFICIENT_FUNDS"


def test_a_newer_request_from_orders_after_a_decline_starts_a_new_attempt_and_an_older_one_does_not(
        requested, buyer):
    event, method = requested
    settle(event.aggregate_id, "DECLINED", "DECLINED")
    deliver_events(payment_requested(buyer.id, method["methodId"], order_id=event.aggregate_id, version=1))
    assert Payment.objects.filter(order_id=event.aggregate_id).count() == 1
    deliver_events(payment_requested(buyer.id, method["methodId"], order_id=event.aggregate_id, version=4))
    assert list(Payment.objects.filter(order_id=event.aggregate_id).order_by("attempt").values_list(
        "attempt", "status")) == [(1, "DECLINED"), (2, "PENDING")]
