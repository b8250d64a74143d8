"""Turning events into outbox payloads and back (msgspec: fast, strict, no Django)."""
from __future__ import annotations

import msgspec

from commerce.eventbus.event import DomainEvent

_encoder = msgspec.json.Encoder()


def encode(event: DomainEvent) -> str:
    return _encoder.encode(event).decode()


def decode(name: str, payload: str | bytes) -> DomainEvent:
    """Rebuild an event from its stored JSON; unknown extra fields are ignored (newer producers)."""
    return msgspec.json.decode(payload, type=DomainEvent.class_for(name))
