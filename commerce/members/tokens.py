"""Who a bearer token belongs to, remembered for a few seconds in the shared cache (Redis).

Every API call authenticates, so a token lookup (one PostgreSQL query joining token and member,
and two model instances) sits on the hot path of every endpoint. A hit here costs one cache GET.
Entries are keyed by the token's digest (the raw token is never stored), live at most
``MEMBERS_TOKEN_CACHE_SECONDS`` and never past the token's expiry, and are deleted when the token
is revoked (logout, password change), so revocation still takes effect at once on every web
process. What may lag by up to the cache time: a member deactivated or given another role in the
admin (their tokens keep the old state until the entry expires).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from knox.models import get_token_model

from commerce.members.models import Member

# every column but the password, in the model's own order (what Model.from_db expects)
_MEMBER_FIELDS = tuple(f.attname for f in Member._meta.concrete_fields if f.attname != "password")


def _key(digest: str) -> str:
    return f"members:token:{digest}"


def remember(auth_token) -> None:
    seconds = settings.MEMBERS_TOKEN_CACHE_SECONDS
    if auth_token.expiry is not None:
        seconds = min(seconds, int((auth_token.expiry - timezone.now()).total_seconds()))
    if seconds <= 0:
        return
    member = auth_token.user
    cache.set(_key(auth_token.digest), (
        tuple(getattr(member, f) for f in _MEMBER_FIELDS),
        auth_token.token_key, auth_token.expiry.timestamp() if auth_token.expiry else None,
    ), timeout=seconds)


def recall(digest: str):
    """``(member, auth_token)`` for a remembered, unexpired token, else None. The member is
    loaded without its password (a deferred field), so saving it can never write one back."""
    entry = cache.get(_key(digest))
    if entry is None:
        return None
    values, token_key, expiry = entry
    expiry = datetime.fromtimestamp(expiry, UTC) if expiry is not None else None
    if expiry is not None and expiry <= timezone.now():
        return None
    member = Member.from_db("default", _MEMBER_FIELDS, values)
    auth_token = get_token_model()(digest=digest, token_key=token_key, user=member, expiry=expiry)
    auth_token._state.adding = False
    auth_token._state.db = "default"
    return member, auth_token


def forget(digests: Iterable[str]) -> None:
    keys = [_key(d) for d in digests]
    if keys:
        cache.delete_many(keys)


def forget_now_and_after_commit(digests: Iterable[str]) -> None:
    """Revocation: forget at once, and again after the caller's commit, because a request that
    ran in between may have remembered the token from the not yet committed rows."""
    digests = list(digests)
    forget(digests)
    transaction.on_commit(lambda: forget(digests))
