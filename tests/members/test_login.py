from datetime import datetime, timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def login(client, email, password, **extra):
    return client.post("/member/login", {"email": email, "password": password}, format="json", **extra)


def test_login_returns_a_token_the_member_id_and_a_future_expiry(api_client, member):
    response = login(api_client, member.email, member.raw_password)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "userId", "expiresAt"}
    assert body["userId"] == str(member.id)
    assert body["token"]
    expires_at = datetime.fromisoformat(body["expiresAt"])
    assert expires_at.tzinfo is not None
    assert timezone.now() < expires_at <= timezone.now() + timedelta(hours=24, minutes=1)


def test_the_token_from_login_authenticates_later_calls(api_client, member):
    token = login(api_client, member.email, member.raw_password).json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get(f"/member/members/{member.id}")

    assert response.status_code == 200


def test_login_ignores_the_case_of_the_email(api_client, make_member):
    member = make_member(email="kim@example.com")

    assert login(api_client, "KIM@example.COM", member.raw_password).status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(api_client, member):
    wrong_password = login(api_client, member.email, "not-the-password")
    unknown_email = login(api_client, "nobody@example.com", "not-the-password")

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password["Content-Type"] == unknown_email["Content-Type"] == "application/problem+json"
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password["WWW-Authenticate"] == "Bearer"


def test_an_inactive_member_cannot_log_in(api_client, make_member):
    member = make_member(is_active=False)

    response = login(api_client, member.email, member.raw_password)

    assert response.status_code == 401


def test_login_with_missing_fields_is_a_validation_error(api_client):
    response = api_client.post("/member/login", {"email": "kim@example.com"}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["errors"]


@pytest.fixture
def login_rates(settings):
    def set_rates(*, account: str, address: str) -> None:
        rest_framework = dict(settings.REST_FRAMEWORK)
        rest_framework["DEFAULT_THROTTLE_RATES"] = {"login_account": account, "login_address": address}
        settings.REST_FRAMEWORK = rest_framework

    return set_rates


def test_failed_logins_for_one_account_are_throttled_with_retry_after(api_client, member, login_rates):
    login_rates(account="3/min", address="100/min")
    for attempt in range(3):
        assert login(api_client, member.email, f"wrong-{attempt}").status_code == 401

    response = login(api_client, member.email, member.raw_password)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 429
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_account_throttle_follows_the_email_not_the_address(api_client, member, login_rates):
    login_rates(account="2/min", address="100/min")
    login(api_client, member.email, "wrong", REMOTE_ADDR="10.0.0.1")
    login(api_client, member.email.upper(), "wrong", REMOTE_ADDR="10.0.0.2")

    response = login(api_client, member.email, member.raw_password, REMOTE_ADDR="10.0.0.3")

    assert response.status_code == 429


def test_the_account_throttle_leaves_other_accounts_alone(api_client, make_member, login_rates):
    login_rates(account="2/min", address="100/min")
    victim, other = make_member(), make_member()
    for _ in range(2):
        login(api_client, victim.email, "wrong")

    assert login(api_client, other.email, other.raw_password).status_code == 200


def test_failed_logins_from_one_address_are_throttled_across_accounts(api_client, make_member, login_rates):
    login_rates(account="100/min", address="3/min")
    for attempt in range(3):
        response = login(api_client, f"guess-{attempt}@example.com", "wrong", REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 401
    member = make_member()

    blocked = login(api_client, member.email, member.raw_password, REMOTE_ADDR="192.0.2.7")
    elsewhere = login(api_client, member.email, member.raw_password, REMOTE_ADDR="192.0.2.8")

    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    assert elsewhere.status_code == 200


def test_successful_logins_are_not_throttled(api_client, member, login_rates):
    login_rates(account="2/min", address="2/min")

    statuses = {login(api_client, member.email, member.raw_password).status_code for _ in range(5)}

    assert statuses == {200}


def test_a_successful_login_clears_the_accounts_failures(api_client, member, login_rates):
    login_rates(account="2/min", address="100/min")
    login(api_client, member.email, "wrong")
    assert login(api_client, member.email, member.raw_password).status_code == 200

    login(api_client, member.email, "wrong")

    assert login(api_client, member.email, member.raw_password).status_code == 200


def test_the_default_rates_throttle_the_sixth_failure_on_an_account(api_client, member):
    for _ in range(5):
        assert login(api_client, member.email, "wrong").status_code == 401

    assert login(api_client, member.email, "wrong").status_code == 429
