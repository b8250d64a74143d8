from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import get_token_model
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    assert {"type", "title", "detail"} <= set(body)


def test_a_call_without_a_token_is_401(api_client, member):
    assert_unauthorized(api_client.get(f"/member/members/{member.id}"))


@pytest.mark.parametrize("header", [
    "Bearer not-a-real-token",
    "Bearer " + "0" * 64,
    "Bearer",
    "Bearer two parts",
    "Bearer \u00e9\u00e8\u00ff",
])
def test_a_garbage_token_is_401(api_client, member, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert_unauthorized(api_client.get(f"/member/members/{member.id}"))


def test_an_expired_token_is_401(member_client, member):
    get_token_model().objects.filter(pk=member_client.token_row.pk).update(
        expiry=timezone.now() - timedelta(seconds=1))

    assert_unauthorized(member_client.get(f"/member/members/{member.id}"))


def test_tokens_expire_after_the_configured_ttl(api_client, member, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(minutes=5)}

    body = api_client.post("/member/login", {"email": member.email, "password": member.raw_password},
                           format="json").json()

    row = get_token_model().objects.get(user=member)
    assert timedelta(minutes=4) < row.expiry - timezone.now() <= timedelta(minutes=5)
    assert body["expiresAt"].startswith(row.expiry.strftime("%Y-%m-%dT%H:%M:%S"))


def test_logout_revokes_the_token_used_for_it(member_client, member):
    response = member_client.post("/member/logout")

    assert response.status_code == 204
    assert_unauthorized(member_client.get(f"/member/members/{member.id}"))


def test_logout_leaves_the_members_other_tokens_working(client_for, member):
    phone, laptop = client_for(member), client_for(member)

    phone.post("/member/logout")

    assert laptop.get(f"/member/members/{member.id}").status_code == 200


def test_logout_without_a_token_is_401(api_client):
    assert_unauthorized(api_client.post("/member/logout"))


def test_a_token_of_a_deactivated_member_is_401(member_client, member):
    member.is_active = False
    member.save()

    assert_unauthorized(member_client.get(f"/member/members/{member.id}"))


def test_login_sweeps_the_members_expired_tokens(api_client, member, client_for):
    stale = client_for(member)
    get_token_model().objects.filter(pk=stale.token_row.pk).update(expiry=timezone.now() - timedelta(days=1))

    api_client.post("/member/login", {"email": member.email, "password": member.raw_password}, format="json")

    assert not get_token_model().objects.filter(pk=stale.token_row.pk).exists()
    assert get_token_model().objects.filter(user=member).count() == 1


def test_the_token_keyword_token_is_not_accepted(member_client, member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {member_client.token}")

    assert_unauthorized(client.get(f"/member/members/{member.id}"))


def test_a_token_seen_a_moment_ago_is_answered_without_a_database_lookup(
        member_client, member, django_assert_num_queries):
    assert member_client.get(f"/member/members/{member.id}").status_code == 200  # looked up and remembered
    with django_assert_num_queries(1):  # only the member read of the view itself
        response = member_client.get(f"/member/members/{member.id}")
    assert response.status_code == 200 and response.json()["userId"] == str(member.id)


def test_logout_revokes_a_remembered_token_at_once(member_client, member):
    assert member_client.get(f"/member/members/{member.id}").status_code == 200
    assert member_client.post("/member/logout").status_code == 204
    assert_unauthorized(member_client.get(f"/member/members/{member.id}"))


def test_a_password_change_revokes_the_other_remembered_tokens_at_once(client_for, member):
    laptop, phone = client_for(member), client_for(member)
    assert phone.get(f"/member/members/{member.id}").status_code == 200  # phone's token is remembered
    response = laptop.put(f"/member/members/{member.id}", {
        "password": "a-brand-new-password", "currentPassword": member.raw_password}, format="json")
    assert response.status_code == 200
    assert_unauthorized(phone.get(f"/member/members/{member.id}"))
    assert laptop.get(f"/member/members/{member.id}").status_code == 200


def test_a_remembered_member_never_writes_a_password_back(member_client, member):
    from commerce.members import tokens

    member_client.get(f"/member/members/{member.id}")
    remembered, _ = tokens.recall(member_client.token_row.digest)
    remembered.name = "Renamed"
    remembered.save()
    member.refresh_from_db()
    assert member.name == "Renamed" and member.check_password(member.raw_password)


def test_an_expired_remembered_token_is_refused(member_client, member):
    assert member_client.get(f"/member/members/{member.id}").status_code == 200
    get_token_model().objects.filter(pk=member_client.token_row.pk).update(
        expiry=timezone.now() - timedelta(seconds=1))
    from commerce.members import tokens

    digest = member_client.token_row.digest
    values, token_key, _ = tokens.load(digest)
    tokens.store(digest, (values, token_key, (timezone.now() - timedelta(seconds=1)).timestamp()), 30)
    assert_unauthorized(member_client.get(f"/member/members/{member.id}"))
