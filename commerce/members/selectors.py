"""Reads of the members context."""
from __future__ import annotations

from uuid import UUID

from commerce.members.models import Member
from commerce.shared.errors import NotFound


def member_get(*, member_id: UUID, requester_id: UUID) -> Member:
    """The requester's own member record. Anyone else's is reported as missing, never shown."""
    if member_id != requester_id:
        raise NotFound("No member with this id.")
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None:
        raise NotFound("No member with this id.")
    return member


def member_find(*, member_id: UUID) -> Member | None:
    """Any member by id, for this context's public API (no access check: callers decide)."""
    return Member.objects.filter(pk=member_id).first()
