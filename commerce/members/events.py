"""Events the members context publishes. Plain dataclasses: no Django, importable by anyone."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from commerce.eventbus.event import DomainEvent


@dataclass(frozen=True, kw_only=True)
class MemberRegistered(DomainEvent):
    """A new member signed up. ``aggregate_id`` is the member id (the ``userId`` clients see)."""

    name: ClassVar[str] = "members.member_registered"
    version: ClassVar[int] = 1

    email: str
    display_name: str
    role: str
