"""The single DRF exception handler: every error leaves the API as ``application/problem+json``.

Domain errors (``commerce.shared.errors``), DRF's own exceptions and Django's ``Http404`` /
``PermissionDenied`` are mapped here. Anything else is left to Django, whose ``handler500``
(``commerce.shared.http.views.server_error``) answers with a problem body and no stack trace.
"""
from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from commerce.shared import errors
from commerce.shared.http.problems import PROBLEM_CONTENT_TYPE, problem_body

BEARER_CHALLENGE = "Bearer"


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = errors.ValidationFailed(_django_validation_errors(exc))

    if isinstance(exc, errors.DomainError):
        response = _domain_error_response(exc)
    elif isinstance(exc, drf.APIException):
        response = _api_exception_response(exc)
    else:
        return None
    set_rollback()
    return response


def _domain_error_response(exc: errors.DomainError) -> Response:
    headers = {}
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    body = problem_body(exc.status, exc.detail, title=exc.title, type=exc.type,
                        errors=getattr(exc, "errors", None))
    return Response(body, status=exc.status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _api_exception_response(exc: drf.APIException) -> Response:
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    wait = getattr(exc, "wait", None)
    if isinstance(exc, drf.Throttled):
        headers["Retry-After"] = str(max(1, math.ceil(wait or 1)))

    if isinstance(exc, drf.ValidationError):
        body = problem_body(exc.status_code, errors.ValidationFailed.default_detail,
                            errors=flatten_errors(exc.detail))
    elif isinstance(exc, drf.Throttled):
        # DRF's message counts seconds ("Expected available in 42 seconds."); keep it plain.
        body = problem_body(exc.status_code, "Too many requests. Retry after the time in Retry-After.")
    else:
        body = problem_body(exc.status_code, _text(exc.detail))
    return Response(body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field": [...], "items[0].quantity": [...]}``."""
    here = prefix or api_settings.NON_FIELD_ERRORS_KEY
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            _merge(flat, flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                _merge(flat, flatten_errors(item, f"{prefix}[{index}]"))
            else:
                flat.setdefault(here, []).append(str(item))
    else:
        flat.setdefault(here, []).append(str(detail))
    return flat


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for key, messages in more.items():
        into.setdefault(key, []).extend(messages)


def _django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field: messages
                for field, messages in exc.message_dict.items()}
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _text(detail) -> str:
    if isinstance(detail, list | tuple):
        return " ".join(str(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(_text(value) for value in detail.values())
    return str(detail)
