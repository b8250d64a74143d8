"""members.api.member_id_for_bearer: the fast paths' authentication, from the token cache only."""
from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import get_token_model

from commerce.members import api, tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(member):
    row, token = get_token_model().objects.create(user=member)
    return row, token


def test_a_cached_token_gives_its_members_id(member, issued):
    row, token = issued
    tokens.remember(row)

    assert api.member_id_for_bearer(f"Bearer {token}") == member.id
    assert api.member_id_for_bearer(f"bearer  {token} ") == member.id


def test_a_token_not_in_the_cache_is_left_to_the_full_authentication(issued):
    _, token = issued

    assert api.member_id_for_bearer(f"Bearer {token}") is None


@pytest.mark.parametrize("header", [None, "", "Bearer", "Token abc", "Basic dXNlcjpwYXNz", "Bearer a b",
                                    "Bearer not-hex", "Bearer ünïcode"])
def test_anything_but_a_bearer_token_is_none(header):
    assert api.member_id_for_bearer(header) is None


def test_an_inactive_member_or_an_expired_token_is_none(member, issued):
    row, token = issued
    member.is_active = False
    tokens.remember(row)
    assert api.member_id_for_bearer(f"Bearer {token}") is None

    member.is_active = True
    row.expiry = timezone.now() - timedelta(seconds=1)
    tokens.forget([row.digest])
    tokens.remember(row)
    assert api.member_id_for_bearer(f"Bearer {token}") is None
