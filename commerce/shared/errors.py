"""The error hierarchy every context raises from its services and selectors.

Services speak in these terms only; ``commerce.shared.http.exceptions`` turns them into
``application/problem+json`` responses, so views need no try/except.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base class: a use case refused to do what it was asked.

    ``status`` is the HTTP status the error maps to; ``title`` a short human summary (defaults to
    the status phrase); ``type`` an RFC 9457 problem type URI (``about:blank`` unless a subclass
    names a more specific problem).
    """

    status: int = 400
    title: str | None = None
    type: str = "about:blank"
    default_detail: str = "The request could not be processed."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    """Input that the edge could not reject by itself, e.g. a bad cursor or a wrong current password.

    ``errors`` maps a field name (as the client sent it) to its messages.
    """

    status = 400
    default_detail = "The request contains invalid fields."

    def __init__(self, errors: Mapping[str, Sequence[str] | str], detail: str | None = None) -> None:
        self.errors = {field: [messages] if isinstance(messages, str) else list(messages)
                       for field, messages in errors.items()}
        super().__init__(detail)


class Unauthorized(DomainError):
    """The caller could not be identified (bad credentials, no valid token)."""

    status = 401
    default_detail = "Authentication credentials were missing or incorrect."


class PermissionDenied(DomainError):
    """The caller is known but may not do this (e.g. a buyer creating a product)."""

    status = 403
    default_detail = "You do not have permission to perform this action."


class NotFound(DomainError):
    """The thing does not exist, or belongs to someone else and must stay invisible."""

    status = 404
    default_detail = "Not found."


class Conflict(DomainError):
    """The request clashes with the current state (duplicate email, stock would go negative)."""

    status = 409
    default_detail = "The request conflicts with the current state of the resource."


class Unavailable(DomainError):
    """A dependency of this request is down or not ready (e.g. the search index is rebuilding)."""

    status = 503
    default_detail = "The service is temporarily unavailable."
