"""Revoking tokens while the token cache (Redis) is unreachable: 503 and nothing changed, rather
than a revocation by half that a cached entry could outlive; a cache lost after the commit only
leaves entries that expire by themselves."""
import logging

import pytest
import redis
from knox.models import get_token_model

from commerce.members import tokens
from commerce.members.models import Member

pytestmark = pytest.mark.django_db


def unreachable() -> redis.Redis:
    """A client of a port nothing listens on: every call fails as with the cache down."""
    return redis.Redis(port=1, socket_connect_timeout=0.2, socket_timeout=0.2)


@pytest.fixture
def cache_down(monkeypatch):
    monkeypatch.setattr(tokens, "_client", unreachable())


def test_logout_with_the_cache_down_is_a_503_and_revokes_nothing(member_client, member, cache_down):
    response = member_client.post("/member/logout")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert get_token_model().objects.filter(digest=member_client.token_row.digest).exists()


def test_logout_works_again_once_the_cache_is_back(member_client, member, monkeypatch):
    monkeypatch.setattr(tokens, "_client", unreachable())
    assert member_client.post("/member/logout").status_code == 503
    monkeypatch.setattr(tokens, "_client", None)

    assert member_client.post("/member/logout").status_code == 204
    assert not get_token_model().objects.filter(digest=member_client.token_row.digest).exists()


def test_a_password_change_with_the_cache_down_is_a_503_and_changes_nothing(client_for, member, cache_down):
    laptop, phone = client_for(member), client_for(member)

    response = laptop.put(f"/member/members/{member.id}", {
        "password": "a-brand-new-password", "currentPassword": member.raw_password}, format="json")

    assert response.status_code == 503
    assert Member.objects.get(pk=member.id).check_password(member.raw_password)
    assert get_token_model().objects.filter(digest=phone.token_row.digest).exists()


def test_a_name_change_with_the_cache_down_still_works(member_client, member, cache_down, caplog,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.put(f"/member/members/{member.id}", {"name": "New Name"}, format="json")

    assert response.status_code == 200
    assert Member.objects.get(pk=member.id).name == "New Name"
    assert any("expire within" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_cache_lost_between_the_two_steps_still_revokes(member_client, member, monkeypatch, caplog,
                                                         django_capture_on_commit_callbacks):
    real_forget, calls = tokens.forget, []

    def forget_once(digests):
        calls.append(list(digests))
        if len(calls) > 1:
            raise redis.ConnectionError("gone")
        real_forget(digests)

    monkeypatch.setattr(tokens, "forget", forget_once)

    with django_capture_on_commit_callbacks(execute=True):
        assert member_client.post("/member/logout").status_code == 204

    assert len(calls) == 2
    assert not get_token_model().objects.filter(digest=member_client.token_row.digest).exists()
    assert any("expire within" in r.getMessage() for r in caplog.records)
