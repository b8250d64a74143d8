"""The members context's public facade: what other contexts may ask about a member."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from knox.crypto import hash_token
from knox.settings import knox_settings

from commerce.members import tokens
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


def member_id_for_bearer(authorization: str | None) -> UUID | None:
    """For the web tier's fast paths (``commerce.shared.http.fastpath``): the id of the active
    member whose remembered, unexpired token this ``Authorization`` header value carries. None for
    anything else (no header, another scheme, a malformed token, one not in the token cache, an
    inactive member): the caller then takes the full way, which looks the token up in the database
    or answers 401."""
    if not authorization:
        return None
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != knox_settings.AUTH_HEADER_PREFIX.lower() or not parts[1].isascii():
        return None
    try:
        digest = hash_token(parts[1])
    except (TypeError, ValueError):
        return None
    remembered = tokens.recall(digest)
    if remembered is None or not remembered[0].is_active:
        return None
    return remembered[0].id
