import pytest
from django.db import connection

from commerce.eventbus import signals
from commerce.eventbus.relay import Send
from tests.eventbus import probe_handlers


@pytest.fixture
def probe_table(django_db_blocker):
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(probe_handlers.CREATE_TABLE)
        cursor.execute("TRUNCATE probe_effect")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE probe_effect")


@pytest.fixture
def broken_probe():
    probe_handlers.BROKEN.clear()
    yield probe_handlers.BROKEN
    probe_handlers.BROKEN.clear()


class CapturingSender:
    """Stands in for the broker in in-process tests: keeps what the relay would send."""

    def __init__(self):
        self.sent: list[Send] = []

    def __call__(self, sends):
        self.sent.extend(sends)

    def take(self) -> list[Send]:
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def sender():
    return CapturingSender()


@pytest.fixture
def kicks(monkeypatch):
    """The relay kicks this process's commits would make (counted, not sent)."""
    calls = []
    monkeypatch.setattr(signals, "kick_relay", lambda: calls.append(1))
    return calls
