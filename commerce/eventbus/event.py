"""The domain event base class: plain frozen dataclasses, no Django, so any context (or a future
service) can import the events of another."""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar


def _now() -> datetime:
    return datetime.now(UTC)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then random bits.
    Inbox rows keyed by it land at the end of the index instead of on random pages."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened in one context, told to the others.

    Subclasses set ``name`` (stable, ``"<context>.<snake_case_past_tense>"``) and, when their
    payload changes shape, ``version``. ``aggregate_id``/``aggregate_version`` let consumers keep
    per-aggregate order and drop stale events.
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1

    aggregate_id: str
    aggregate_version: int = 0
    event_id: uuid.UUID = field(default_factory=uuid7)
    occurred_at: datetime = field(default_factory=_now)

    _registry: ClassVar[dict[str, type[DomainEvent]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            known = DomainEvent._registry.get(cls.name)
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise TypeError(f"event name {cls.name!r} used by {known.__qualname__} and {cls.__qualname__}")
            DomainEvent._registry[cls.name] = cls

    @classmethod
    def class_for(cls, name: str) -> type[DomainEvent]:
        try:
            return DomainEvent._registry[name]
        except KeyError:
            raise LookupError(f"no event class registered under {name!r}") from None
