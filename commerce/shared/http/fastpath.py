"""Fast paths: the few requests that dominate the load answered at the WSGI level, around
Django's middleware and DRF, when they are plain; everything else, and every error, goes the full
way through Django, which answers it as it always does.

On POST /order/process-order the request machinery (WSGIRequest, eight middlewares, DRF's
Request, authentication and permission classes, content negotiation, the renderer) cost about a
third of the endpoint's CPU, more than the three lookups and the insert together. A fast path
takes a request only when the full stack would do nothing with it but run the view:

- the host is one of ``ALLOWED_HOSTS`` (and ``USE_X_FORWARDED_HOST`` is off),
- ``Accept`` is absent, ``*/*`` or ``application/json``; the body is JSON (``Content-Type``
  ``application/json``, at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes) and parses,
- neither ``SECURE_SSL_REDIRECT`` nor ``SECURE_HSTS_SECONDS`` is set (their headers and
  redirects stay the middleware's job),

and its handler answers only what it is sure of: it returns None (not mine: the full stack
answers, from the same body) or raises a ``DomainError`` (the full stack answers that request
again, with its error body), so that error responses exist in one place only. Anything else raised
is a 500 in the contract's format, logged as Django logs it. The answer carries the headers the
middleware would have added. ``request_started`` and ``request_finished`` are sent around the
handler as Django sends them, so database connections are checked and recycled the same way.
``WEB_FAST_PATHS=0`` turns all of this off.
"""
from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from django.conf import settings
from django.core import signals
from django.http.request import HttpHeaders, split_domain_port, validate_host

from commerce.shared.errors import DomainError
from commerce.shared.http.problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger("django.request")

_JSON_TYPES = ("application/json", "application/json; charset=utf-8", "application/json;charset=utf-8")
_ACCEPTS = (None, "*/*", "application/json")


@dataclass(frozen=True)
class FastRequest:
    environ: dict
    body: bytes  # the raw body, as sent (a signature may cover it)
    data: object  # the body decoded as JSON

    def header(self, name: str) -> str | None:
        """A request header by its HTTP name (``Idempotency-Key``)."""
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))

    @property
    def headers(self) -> HttpHeaders:
        """Every request header, by case-insensitive name, as Django's ``request.headers``."""
        return HttpHeaders(self.environ)


@dataclass(frozen=True)
class FastResponse:
    status: int
    data: object  # rendered as DRF's JSONRenderer renders it
    headers: tuple[tuple[str, str], ...] = field(default=())
    content_type: str = "application/json"


Handler = Callable[[FastRequest], FastResponse | None]


def render_json(data) -> bytes:
    """JSON exactly as DRF's JSONRenderer writes it with the default settings (compact, UTF-8,
    no NaN, U+2028/U+2029 escaped)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def middleware_headers() -> tuple[tuple[str, str], ...]:
    """The headers SecurityMiddleware and XFrameOptionsMiddleware add to every API answer."""
    headers = []
    if settings.X_FRAME_OPTIONS:
        headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS.upper()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return tuple(headers)


class FastPaths:
    """WSGI application: ``routes`` maps ``(method, path)`` to a handler; everything else goes to
    ``app`` (Django's WSGI handler)."""

    def __init__(self, app, routes: Mapping[tuple[str, str], Handler]):
        self.app = app
        usable = (settings.WEB_FAST_PATHS and not settings.SECURE_SSL_REDIRECT
                  and not settings.SECURE_HSTS_SECONDS and not settings.USE_X_FORWARDED_HOST)
        self.routes = dict(routes) if usable else {}
        self.headers = middleware_headers()

    def __call__(self, environ, start_response):
        handler = self.routes.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO")))
        if handler is None:
            return self.app(environ, start_response)
        request = self._plain_request(environ)
        if request is None:
            return self.app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            response = handler(request)
        except DomainError:
            response = None
        except Exception:
            logger.error("Internal Server Error: %s", environ.get("PATH_INFO"), exc_info=True,
                         extra={"status_code": 500})
            response = FastResponse(500, problem_body(500, "An unexpected error occurred. It has been logged."),
                                    content_type=PROBLEM_CONTENT_TYPE)
        finally:
            signals.request_finished.send(sender=self.__class__)
        if response is None:
            return self.app(environ, start_response)
        body = render_json(response.data)
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", [
            ("Content-Type", response.content_type), *response.headers, *self.headers,
            ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _plain_request(environ) -> FastRequest | None:
        """The request with its decoded body when the fast path may take it, else None; a body
        read here is put back for Django."""
        if environ.get("HTTP_ACCEPT") not in _ACCEPTS:
            return None
        if (environ.get("CONTENT_TYPE") or "").lower() not in _JSON_TYPES:
            return None
        domain, _ = split_domain_port(environ.get("HTTP_HOST", ""))
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length <= 0 or (limit is not None and length > limit):
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
        except ValueError:
            return None
        return FastRequest(environ, body, data)
