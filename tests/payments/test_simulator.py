"""The gateway simulator over real HTTP: test cards, idempotent charges, refunds, reversals and
the faults it can be told to inject."""
import httpx
import pytest

from tests.payments.conftest import (
    APPROVED_CARD,
    DECLINED_CARD,
    INSUFFICIENT_FUNDS_CARD,
    PROCESSING_ERROR_CARD,
)

pytestmark = pytest.mark.django_db  # the session fixture reads the test database settings


@pytest.fixture
def http(gateway):
    with httpx.Client(base_url=gateway.url, timeout=5) as client:
        yield client


def token_for(http, number):
    response = http.post("/v1/tokens", json={"cardNumber": number, "expMonth": 12, "expYear": 2031,
                                             "holderName": "Test Buyer"})
    assert response.status_code == 201, response.text
    return response.json()


def charge(http, token, key, amount="100.00", reference="order-1", timeout=5.0, **headers):
    return http.post("/v1/charges", json={"token": token, "amount": amount, "currency": "KRW",
                                          "reference": reference}, headers={"Idempotency-Key": key, **headers},
                     timeout=timeout)


def test_tokenising_gives_brand_and_last4_and_refuses_a_luhn_invalid_number(http):
    assert {k: v for k, v in token_for(http, APPROVED_CARD).items() if k != "token"} == {
        "brand": "visa", "last4": "4242"}
    response = http.post("/v1/tokens", json={"cardNumber": "4242424242424241", "expMonth": 12, "expYear": 2031})
    assert response.status_code == 400 and response.json()["code"] == "invalid_card_number"


@pytest.mark.parametrize(("number", "status", "answer"), [
    (APPROVED_CARD, 201, "succeeded"),
    (DECLINED_CARD, 402, "declined"),
    (INSUFFICIENT_FUNDS_CARD, 402, "declined"),
    (PROCESSING_ERROR_CARD, 402, "error"),
])
def test_test_cards_follow_the_contract(http, number, status, answer):
    response = charge(http, token_for(http, number)["token"], f"key-{number}")
    assert (response.status_code, response.json()["status"]) == (status, answer)
    if number == INSUFFICIENT_FUNDS_CARD:
        assert response.json()["code"] == "insufficient_funds"


def test_the_same_key_never_charges_twice_and_answers_the_first_answer(http, gateway):
    token = token_for(http, APPROVED_CARD)["token"]
    first, second = charge(http, token, "k-1"), charge(http, token, "k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert len(gateway.succeeded_charges(reference="order-1")) == 1
    assert charge(http, token, "k-1", amount="200.00").status_code == 409  # same key, other request


def test_a_processing_error_is_not_remembered_so_a_retry_tries_again(http, gateway):
    token = token_for(http, PROCESSING_ERROR_CARD)["token"]
    assert charge(http, token, "k-2").json()["code"] == "processing_error"
    assert charge(http, token, "k-2").json()["code"] == "processing_error"
    assert gateway.stats()["calls"]["charges"] == 2 and gateway.charges() == []


def test_a_timed_out_call_was_carried_out_and_its_key_answers_it_later(http, gateway):
    token = token_for(http, APPROVED_CARD)["token"]
    gateway.faults(mode="timeout", times=1)
    with pytest.raises(httpx.ReadTimeout):
        charge(http, token, "k-3", reference="slow", timeout=1.0)
    # the timeout fault is used up: the retry answers at once with the first charge
    again = charge(http, token, "k-3", reference="slow", timeout=1.0)
    assert again.status_code == 201
    assert [c["chargeId"] for c in gateway.succeeded_charges(reference="slow")] == [again.json()["chargeId"]]


def test_error_and_down_faults_do_nothing_and_a_header_injects_them_per_call(http, gateway):
    token = token_for(http, APPROVED_CARD)["token"]
    gateway.faults(mode="error")
    assert charge(http, token, "k-4").status_code == 503
    gateway.faults(mode="down")
    with pytest.raises(httpx.TransportError):
        charge(http, token, "k-4")
    gateway.faults(mode="ok")
    assert charge(http, token, "k-5", Simulate="fault=error").status_code == 503
    assert gateway.charges() == []
    assert charge(http, token, "k-5").status_code == 201


def test_latency_is_added_to_every_call(http, gateway):
    token = token_for(http, APPROVED_CARD)["token"]
    gateway.faults(latency_ms=200)
    response = charge(http, token, "k-6")
    assert response.status_code == 201 and response.elapsed.total_seconds() >= 0.2


def test_refunds_are_idempotent_and_only_for_succeeded_charges(http, gateway):
    ok = charge(http, token_for(http, APPROVED_CARD)["token"], "k-7").json()
    first = http.post("/v1/refunds", json={"chargeId": ok["chargeId"]}, headers={"Idempotency-Key": "r-1"})
    again = http.post("/v1/refunds", json={"chargeId": ok["chargeId"]}, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert len(gateway.refunds()) == 1
    declined = charge(http, token_for(http, DECLINED_CARD)["token"], "k-8").json()
    refused = http.post("/v1/refunds", json={"chargeId": declined["chargeId"]}, headers={"Idempotency-Key": "r-2"})
    assert refused.status_code == 409


def test_a_reversal_gives_back_a_charge_and_voids_its_key(http, gateway):
    token = token_for(http, APPROVED_CARD)["token"]
    charged = charge(http, token, "k-9").json()
    assert http.post("/v1/reversals", json={"idempotencyKey": "k-9"}).json() == {
        "reversed": True, "chargeId": charged["chargeId"]}
    assert [r["chargeId"] for r in gateway.refunds()] == [charged["chargeId"]]
    # a key reversed before any charge: a late charge with it is refused
    assert http.post("/v1/reversals", json={"idempotencyKey": "k-10"}).json()["reversed"] is False
    late = charge(http, token, "k-10")
    assert late.status_code == 409 and late.json()["status"] == "voided"
    assert len(gateway.succeeded_charges()) == 1
