"""RFC 9457 problem details: the one shape every error response has.

``{"type", "title", "status", "detail"}`` and, for validation errors, ``"errors": {field: [msg]}``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

PROBLEM_CONTENT_TYPE = "application/problem+json"


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type: str = "about:blank",
    errors: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    body = {"type": type, "title": title or status_phrase(status), "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = {field: list(messages) for field, messages in errors.items()}
    return body


def problem_http_response(status: int, detail: str, **kwargs) -> HttpResponse:
    """A problem response outside DRF (Django's error handlers, plain views)."""
    body = json.dumps(problem_body(status, detail, **kwargs), separators=(",", ":"))
    return HttpResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


class ProblemSerializer(serializers.Serializer):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type = serializers.CharField(help_text="Problem type URI; `about:blank` for plain HTTP errors.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Validation errors: field name to messages.",
    )


_DESCRIPTIONS = {
    400: "Invalid input (validation errors under `errors`).",
    401: "Missing, invalid or expired token.",
    403: "Authenticated but not allowed.",
    404: "Not found (or another member's resource).",
    409: "Conflicts with the current state.",
    415: "Unsupported media type.",
    429: "Too many requests; see `Retry-After`.",
    503: "Unavailable.",
}


def problem_responses(*statuses: int, descriptions: Mapping[int, str] | None = None) -> dict:
    """``extend_schema(responses=...)`` entries for the given error statuses, as problem+json;
    ``descriptions`` replaces the generic text of some statuses."""
    descriptions = {**_DESCRIPTIONS, **(descriptions or {})}
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=descriptions.get(status, status_phrase(status)))
        for status in statuses
    }
