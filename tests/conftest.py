"""Fixtures every test package may use: API clients, members and their tokens, a clean cache."""
from __future__ import annotations

import uuid

import pytest
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from knox.models import get_token_model
from rest_framework.test import APIClient

DEFAULT_PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle histories and other cached state must not leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def connections_stay_open():
    """For tests that call a WSGI application directly: as Django's test client does, the request
    signals must not close the test's database connections (its transaction, and Cassandra's,
    which the test may not touch)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def make_member(db):
    """Factory: ``make_member(role="seller", email=..., password=...)``; the raw password is kept on
    the returned member as ``raw_password``."""
    from commerce.members.models import Member

    def make(*, email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test Member",
             role: str = "buyer", **fields):
        member = Member.objects.create_user(
            email=email or f"member-{uuid.uuid4().hex[:12]}@example.com", password=password,
            name=name, role=role, **fields,
        )
        member.raw_password = password
        return member

    return make


@pytest.fixture
def member(make_member):
    return make_member()


@pytest.fixture
def seller(make_member):
    return make_member(role="seller", name="Test Seller")


@pytest.fixture
def client_for(db):
    """Factory: an APIClient that sends ``Authorization: Bearer <token>`` for the given member.
    The knox token row is on ``client.token_row``."""

    def make(member) -> APIClient:
        row, token = get_token_model().objects.create(user=member)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.token = token
        client.token_row = row
        return client

    return make


@pytest.fixture
def member_client(client_for, member) -> APIClient:
    """``member``, logged in."""
    return client_for(member)


@pytest.fixture(scope="session", autouse=True)
def cassandra_schema(django_db_blocker):
    """The test keyspace and its tables, made once per run by the project's own command (before
    any test's database guard is in place)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("sync_cassandra", database="cassandra", verbosity=0)
