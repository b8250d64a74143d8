"""Payment methods over the API: the card goes to the gateway once for a token and is never
stored or logged; Luhn and expiry are checked first; only the owner sees and changes a method."""
import logging
import uuid

import pytest
from django.db import connection

from commerce.payments import api
from commerce.payments.models import PaymentMethod
from tests.payments.conftest import APPROVED_CARD, DECLINED_CARD, card_body

pytestmark = pytest.mark.django_db


def test_adding_a_card_stores_the_gateways_token_and_shows_brand_and_last4(gateway, buyer, buyer_client):
    response = buyer_client.post("/payment/methods", card_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: v for k, v in body.items() if k != "methodId"} == {
        "type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2031,
        "holderName": "Test Buyer", "isDefault": True, "active": True}
    method = PaymentMethod.objects.get(id=body["methodId"])
    assert method.member_id == buyer.id and method.gateway_token.startswith("tok_")
    assert gateway.stats()["calls"]["tokens"] == 1


def test_the_second_card_is_not_the_default_and_spaces_in_the_number_are_fine(add_method, buyer):
    add_method(buyer)
    second = add_method(buyer, "4000 0000 0000 0002")
    assert second["isDefault"] is False and second["last4"] == "0002"


def all_tables_mentioning(text):
    """Every table of the database that holds ``text`` in any column of any row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        found = []
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE %s', [f"%{text}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_the_card_number_is_never_stored_or_logged(gateway, buyer, buyer_client, caplog):
    caplog.set_level(logging.DEBUG)
    assert buyer_client.post("/payment/methods", card_body(), format="json").status_code == 201
    assert buyer_client.post("/payment/methods", card_body(expYear=2001), format="json").status_code == 400
    bad = buyer_client.post("/payment/methods", card_body("4242424242424241"), format="json")
    assert bad.status_code == 400 and "4242424242424241" not in bad.content.decode()
    gateway.faults(mode="error")
    assert buyer_client.post("/payment/methods", card_body(), format="json").status_code == 503
    assert all_tables_mentioning("4242") != []  # the check can see data: last4 is stored
    assert all_tables_mentioning(APPROVED_CARD) == []
    assert APPROVED_CARD not in caplog.text and "4242424242424241" not in caplog.text
    assert APPROVED_CARD not in gateway.log_text()


@pytest.mark.parametrize(("fields", "field"), [
    ({"cardNumber": "4242424242424241"}, "cardNumber"),  # Luhn check digit wrong
    ({"cardNumber": "4242-4242"}, "cardNumber"),  # too short
    ({"cardNumber": "4242x24242424242"}, "cardNumber"),
    ({"expYear": 2020}, "expYear"),  # expired
    ({"expMonth": 13}, "expMonth"),
    ({"expMonth": "12"}, "expMonth"),  # a string, not a JSON integer
    ({"type": "paypal"}, "type"),
    ({"holderName": ""}, "holderName"),
])
def test_invalid_cards_are_a_400_problem_before_the_gateway_is_called(gateway, buyer_client, fields, field):
    response = buyer_client.post("/payment/methods", card_body(**fields), format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert gateway.stats()["calls"].get("tokens", 0) == 0
    assert PaymentMethod.objects.count() == 0


def test_a_card_expiring_this_month_is_still_valid(gateway, buyer_client):
    from django.utils import timezone

    today = timezone.now().date()
    body = card_body(expMonth=today.month, expYear=today.year)
    assert buyer_client.post("/payment/methods", body, format="json").status_code == 201


def test_a_gateway_that_does_not_answer_is_a_503_and_stores_nothing(gateway, buyer_client):
    gateway.faults(mode="down")
    response = buyer_client.post("/payment/methods", card_body(), format="json")
    assert response.status_code == 503 and response["Content-Type"] == "application/problem+json"
    assert PaymentMethod.objects.count() == 0


def test_no_token_is_401(api_client, gateway):
    assert api_client.post("/payment/methods", card_body(), format="json").status_code == 401
    assert api_client.get("/payment/methods").status_code == 401


def test_the_list_holds_only_my_methods_newest_first(add_method, buyer, buyer_client, make_member):
    first, second = add_method(buyer), add_method(buyer, DECLINED_CARD)
    add_method(make_member())
    response = buyer_client.get("/payment/methods?limit=1")
    assert response.status_code == 200
    assert [m["methodId"] for m in response.json()["items"]] == [second["methodId"]]
    page2 = buyer_client.get(f"/payment/methods?limit=1&cursor={response.json()['nextCursor']}").json()
    assert [m["methodId"] for m in page2["items"]] == [first["methodId"]] and page2["nextCursor"] is None


def test_updating_a_method_changes_default_expiry_and_active(add_method, buyer, buyer_client):
    first, second = add_method(buyer), add_method(buyer, DECLINED_CARD)
    response = buyer_client.post(f"/payment/methods/{second['methodId']}",
                                 {"isDefault": True, "expYear": 2033, "holderName": "New Name"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["isDefault"], response.json()["expYear"], response.json()["holderName"]) == (
        True, 2033, "New Name")
    assert PaymentMethod.objects.get(id=first["methodId"]).is_default is False
    off = buyer_client.post(f"/payment/methods/{first['methodId']}", {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False


def test_an_update_to_an_expired_date_or_a_bad_field_is_400(add_method, buyer, buyer_client):
    method = add_method(buyer)
    url = f"/payment/methods/{method['methodId']}"
    assert buyer_client.post(url, {"expYear": 2020}, format="json").status_code == 400
    assert buyer_client.post(url, {"expMonth": 0}, format="json").status_code == 400
    assert buyer_client.post(url, {"isDefault": "maybe"}, format="json").status_code == 400
    assert PaymentMethod.objects.get(id=method["methodId"]).exp_year == 2031


def test_someone_elses_method_is_404_and_unchanged(add_method, buyer, make_member, client_for):
    method = add_method(buyer)
    other = client_for(make_member())
    response = other.post(f"/payment/methods/{method['methodId']}", {"active": False}, format="json")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert PaymentMethod.objects.get(id=method["methodId"]).active is True
    assert other.get("/payment/methods").json()["items"] == []
    assert other.post(f"/payment/methods/{uuid.uuid4()}", {}, format="json").status_code == 404
    assert other.post("/payment/methods/not-a-uuid", {}, format="json").status_code == 404


def test_usable_method_is_only_the_buyers_active_unexpired_method(add_method, buyer, make_member,
                                                                  django_assert_num_queries):
    method = add_method(buyer)
    with django_assert_num_queries(1):
        usable = api.usable_method(str(buyer.id), method["methodId"])
    assert usable == api.UsableMethod(method_id=method["methodId"], brand="visa", last4="4242")
    assert api.usable_method(str(make_member().id), method["methodId"]) is None
    assert api.usable_method(str(buyer.id), "not-a-uuid") is None
    assert api.usable_method("nope", method["methodId"]) is None
    PaymentMethod.objects.filter(id=method["methodId"]).update(exp_year=2020)
    assert api.usable_method(str(buyer.id), method["methodId"]) is None
    PaymentMethod.objects.filter(id=method["methodId"]).update(exp_year=2031, active=False)
    assert api.usable_method(str(buyer.id), method["methodId"]) is None


@pytest.mark.django_db(transaction=True)
def test_first_cards_added_at_the_same_time_make_exactly_one_default(gateway, buyer, client_for):
    import threading

    from django.db import connection as thread_connection

    statuses, barrier = [], threading.Barrier(6)

    def add():
        client = client_for(buyer)
        barrier.wait()
        statuses.append(client.post("/payment/methods", card_body(), format="json").status_code)
        thread_connection.close()

    threads = [threading.Thread(target=add) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 6
    assert PaymentMethod.objects.filter(member_id=buyer.id).count() == 6
    assert PaymentMethod.objects.filter(member_id=buyer.id, is_default=True).count() == 1
