"""Use cases of the members context that change state: sign-up, login tokens, profile updates.

Each is one transaction; ``member_register`` publishes ``MemberRegistered`` inside it. Password
hashing (deliberately slow) happens before the transaction opens, so no row lock waits on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from knox.models import get_token_model
from knox.settings import knox_settings

from commerce.eventbus import publish
from commerce.members import tokens
from commerce.members.events import MemberRegistered
from commerce.members.models import Member, normalize_email
from commerce.members.selectors import member_get
from commerce.shared.errors import Conflict, Unauthorized, ValidationFailed

EMAIL_TAKEN = "A member with this email address already exists."
# one message for unknown email, wrong password and inactive member: no account enumeration
BAD_CREDENTIALS = "The email address or password is incorrect."


@dataclass(frozen=True)
class IssuedToken:
    token: str
    member_id: UUID
    expires_at: datetime


def member_register(*, email: str, password: str, display_name: str, role: str) -> Member:
    email = normalize_email(email)
    if Member.objects.filter(email=email).exists():
        raise Conflict(EMAIL_TAKEN)
    member = Member(email=email, name=display_name, role=role)
    member.set_password(password)
    try:
        with transaction.atomic():
            member.save(force_insert=True)
            publish(MemberRegistered(
                aggregate_id=str(member.id), aggregate_version=1,
                email=member.email, display_name=member.name, role=member.role,
            ))
    except IntegrityError:
        # a concurrent sign-up took the address between our check and our insert
        if Member.objects.filter(email=email).exists():
            raise Conflict(EMAIL_TAKEN) from None
        raise
    return member


def member_login(*, email: str, password: str) -> IssuedToken:
    """A new bearer token (expiring after ``REST_KNOX["TOKEN_TTL"]``) for valid credentials."""
    member = Member.objects.filter(email=normalize_email(email)).first()
    if member is None:
        # hash anyway, so an unknown address takes as long as a wrong password
        Member().set_password(password)
        raise Unauthorized(BAD_CREDENTIALS)
    if not member.check_password(password) or not member.is_active:
        raise Unauthorized(BAD_CREDENTIALS)

    now = timezone.now()
    token_model = get_token_model()
    with transaction.atomic():
        # expired tokens are swept here rather than on every authenticated request
        token_model.objects.filter(user=member, expiry__lt=now).delete()
        instance, token = token_model.objects.create(user=member, expiry=knox_settings.TOKEN_TTL)
        Member.objects.filter(pk=member.pk).update(last_login=now)
    return IssuedToken(token=token, member_id=member.id, expires_at=instance.expiry)


def member_logout(*, token_digest: str) -> None:
    """Revoke one token: it stops working at once. 503 when the token cache cannot be reached
    (nothing is revoked then)."""
    tokens.forget_before_revoking([token_digest])
    get_token_model().objects.filter(digest=token_digest).delete()
    tokens.forget_after_commit([token_digest])


def member_update(
    *,
    member_id: UUID,
    requester_id: UUID,
    name: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
    current_token_digest: str | None = None,
) -> Member:
    """Change the requester's own name and/or password.

    A new password needs the current one (400 on ``currentPassword`` otherwise); after a change
    every other token of the member is revoked, only the one making the request keeps working.
    """
    member = member_get(member_id=member_id, requester_id=requester_id)
    changed = []
    if password is not None:
        if not current_password:
            raise ValidationFailed({"currentPassword": ["Required to set a new password."]})
        if not member.check_password(current_password):
            raise ValidationFailed({"currentPassword": ["The current password is incorrect."]})
        member.set_password(password)
        changed.append("password")
    if name is not None:
        member.name = name
        changed.append("name")
    if not changed:
        return member

    live = get_token_model().objects.filter(user=member)
    if "password" in changed:
        # the other tokens are revoked: 503, and no change at all, when the cache is unreachable
        tokens.forget_before_revoking(live.values_list("digest", flat=True))
    with transaction.atomic():
        member.save(update_fields=[*changed, "updated_at"])
        digests = list(live.values_list("digest", flat=True))
        if "password" in changed:
            live.exclude(digest=current_token_digest).delete()
        tokens.forget_after_commit(digests)  # the tokens left pick up the new name
    return member
