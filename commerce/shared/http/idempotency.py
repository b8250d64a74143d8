"""The ``Idempotency-Key`` request header (API contract: scoped to the member; the same key and
body answer the first response again, another body 409). Each context stores its keys itself;
this only reads and checks the header and documents it."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from commerce.shared.errors import ValidationFailed

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 200  # the key columns of the contexts that store them are this long


def idempotency_key(request) -> str | None:
    """The request's key, None without one; 400 when it is empty, too long or not printable."""
    return idempotency_key_checked(request.headers.get(IDEMPOTENCY_HEADER))


def idempotency_key_checked(key: str | None) -> str | None:
    """The header's value as a key (None stays None); ``ValidationFailed`` when it is empty, too
    long or not printable."""
    if key is None:
        return None
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ValidationFailed({IDEMPOTENCY_HEADER: [f"Must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters."]})
    return key


def idempotency_parameter(effect: str) -> OpenApiParameter:
    """OpenAPI documentation of the header; ``effect`` says what a repeat does not do twice."""
    return OpenApiParameter(
        IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
        description=f"Up to {IDEMPOTENCY_KEY_MAX} characters, scoped to the member. The same key with the same "
                    f"body answers the first response again {effect}; with a different body, 409.")
