"""The members context's public facade: what other contexts may ask about a member."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commerce.members.selectors import member_find


@dataclass(frozen=True)
class MemberSummary:
    member_id: UUID
    email: str
    name: str
    role: str  # "buyer" | "seller"
    is_active: bool
    is_staff: bool


def member_get_summary(member_id: UUID | str) -> MemberSummary | None:
    """The member with this id, or None if there is none (or the id is not a UUID)."""
    try:
        member_id = UUID(str(member_id))
    except ValueError:
        return None
    member = member_find(member_id=member_id)
    if member is None:
        return None
    return MemberSummary(member_id=member.id, email=member.email, name=member.name, role=member.role,
                         is_active=member.is_active, is_staff=member.is_staff)
