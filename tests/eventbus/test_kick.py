"""The post-commit relay kick on real Redis: leading relay at once, one trailing relay per window,
and commits covered by a pending trailing relay do not talk to Redis at all."""
from __future__ import annotations

import time

import pytest

from commerce.eventbus import signals, tasks

WINDOW_MS = 200


@pytest.fixture
def kicks(monkeypatch, settings):
    settings.EVENTBUS = {**settings.EVENTBUS, "KICK_WINDOW_MS": WINDOW_MS}
    sent: list[float | None] = []
    monkeypatch.setattr(tasks.relay_task, "apply_async", lambda countdown=None, retry=True: sent.append(countdown))
    client = signals.redis_client()
    client.delete(signals.LEADING_FLAG, signals.TRAILING_FLAG)
    signals._local.covered_until = 0.0
    yield sent
    client.delete(signals.LEADING_FLAG, signals.TRAILING_FLAG)
    signals._local.covered_until = 0.0


def test_a_window_makes_one_relay_at_once_and_one_after_the_window(kicks):
    client = signals.redis_client()
    signals.kick_relay()
    signals.kick_relay()
    assert kicks == [None, (WINDOW_MS + 10) / 1000]
    assert client.exists(signals.LEADING_FLAG, signals.TRAILING_FLAG) == 2
    # the trailing relay covers this thread's next commits: no Redis call, no task, even with the flags gone
    client.delete(signals.LEADING_FLAG, signals.TRAILING_FLAG)
    signals.kick_relay()
    assert kicks == [None, (WINDOW_MS + 10) / 1000]
    assert client.exists(signals.LEADING_FLAG, signals.TRAILING_FLAG) == 0
    time.sleep(WINDOW_MS / 1000)
    signals.kick_relay()  # past the trailing relay's time: a new window
    assert kicks == [None, (WINDOW_MS + 10) / 1000, None]


def test_a_commit_finding_both_flags_relies_on_the_pending_trailing_relay_until_its_flag_expires(kicks):
    client = signals.redis_client()
    client.set(signals.LEADING_FLAG, b"1", px=WINDOW_MS)
    client.set(signals.TRAILING_FLAG, b"1", px=WINDOW_MS)  # another process's trailing relay is pending
    signals.kick_relay()
    assert kicks == []
    assert 0 < signals._local.covered_until - time.monotonic() <= WINDOW_MS / 1000
    time.sleep(WINDOW_MS * 1.1 / 1000)
    signals.kick_relay()
    assert kicks == [None]


def test_a_lost_kick_never_fails_the_commit(kicks, monkeypatch):
    def broken():
        raise ConnectionError("broker down")

    monkeypatch.setattr(signals, "redis_client", broken)
    signals._local.script = None
    signals.kick_relay()
    assert kicks == []
    assert signals._local.covered_until == 0.0
