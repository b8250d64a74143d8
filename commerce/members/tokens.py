"""Who a bearer token belongs to, remembered for a few seconds in the shared cache (Redis).

Every API call authenticates, so a token lookup (one PostgreSQL query joining token and member,
and two model instances) sits on the hot path of every endpoint. A hit here costs one cache GET.
Entries are keyed by the token's digest (the raw token is never stored), live at most
``MEMBERS_TOKEN_CACHE_SECONDS`` and never past the token's expiry, and are deleted when the token
is revoked (logout, password change), so revocation still takes effect at once on every web
process. What may lag by up to the cache time: a member deactivated or given another role in the
admin (their tokens keep the old state until the entry expires).

The entries live in the cache's Redis database but go through one long-lived client instead of
Django's cache API, which builds a new Redis client object on every call (a tenth of an order
request's CPU went there).
"""
from __future__ import annotations

import logging
import pickle
from collections.abc import Iterable
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import get_token_model

from commerce.members.models import Member
from commerce.shared.errors import Unavailable

log = logging.getLogger(__name__)

# every column but the password, in the model's own order (what Model.from_db expects)
_MEMBER_FIELDS = tuple(f.attname for f in Member._meta.concrete_fields if f.attname != "password")


_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    """One client (and connection pool) per process; redis-py clients are thread-safe."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"], socket_timeout=1,
                                       socket_connect_timeout=1)
    return _client


def _key(digest: str) -> str:
    return f"commerce:members:token:{digest}"


def store(digest: str, entry: tuple, seconds: int) -> None:
    _redis().set(_key(digest), pickle.dumps(entry, pickle.HIGHEST_PROTOCOL), ex=seconds)


def load(digest: str) -> tuple | None:
    raw = _redis().get(_key(digest))
    return None if raw is None else pickle.loads(raw)  # noqa: S301 - written by store() above only


def _cache_down(exc: Exception) -> None:
    log.warning("members: token cache unavailable (%s); reading tokens from the database", exc)


def remember(auth_token) -> None:
    seconds = settings.MEMBERS_TOKEN_CACHE_SECONDS
    if auth_token.expiry is not None:
        seconds = min(seconds, int((auth_token.expiry - timezone.now()).total_seconds()))
    if seconds <= 0:
        return
    member = auth_token.user
    try:
        store(auth_token.digest, (
            tuple(getattr(member, f) for f in _MEMBER_FIELDS),
            auth_token.token_key, auth_token.expiry.timestamp() if auth_token.expiry else None,
        ), seconds)
    except redis.RedisError as exc:
        _cache_down(exc)


def recall(digest: str):
    """``(member, auth_token)`` for a remembered, unexpired token, else None. The member is
    loaded without its password (a deferred field), so saving it can never write one back."""
    try:
        entry = load(digest)
    except redis.RedisError as exc:
        _cache_down(exc)
        return None
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
        _redis().delete(*keys)


def forget_before_revoking(digests: Iterable[str]) -> None:
    """Revocation, first step, before the tokens' rows change: forget them, or raise
    ``Unavailable`` (503) when the cache cannot be reached, so that nothing is revoked by half (a
    token the cache still held would keep working until its entry expires)."""
    try:
        forget(digests)
    except redis.RedisError as exc:
        log.warning("members: token cache unavailable (%s); revocation refused", exc)
        raise Unavailable("Tokens cannot be revoked right now; try again shortly.") from exc


def forget_after_commit(digests: Iterable[str]) -> None:
    """Revocation, second step: forget the tokens again once the caller's transaction commits (a
    request that ran in between may have remembered them from the not yet committed rows). If
    the cache is gone by then, the entries expire within ``MEMBERS_TOKEN_CACHE_SECONDS``."""
    digests = list(digests)

    def again() -> None:
        try:
            forget(digests)
        except redis.RedisError as exc:
            log.warning("members: token cache unavailable after a revocation (%s); its entries expire"
                        " within %s s", exc, settings.MEMBERS_TOKEN_CACHE_SECONDS)

    transaction.on_commit(again)
