"""The WSGI fast-path wrapper (commerce/shared/http/fastpath.py) with a route of the test's own:
which requests it takes, which it hands to the full stack (with their body intact), what it
answers, and the request signals it sends."""
from __future__ import annotations

import io
import json

import pytest
from django.core import signals

from commerce.shared.errors import ValidationFailed
from commerce.shared.http.fastpath import FastPaths, FastResponse, render_json

pytestmark = pytest.mark.usefixtures("connections_stay_open")

BODY = {"name": "Ünïcode \u2028 line", "n": 1}


def environ(body=BODY, *, method="POST", path="/fast", content_type="application/json", host="127.0.0.1:8000",
            **headers) -> dict:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
           "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(raw)), "HTTP_HOST": host,
           "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO()}
    env.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return env


class Full:
    """Stands in for Django: records what reached it, with the body it could read."""

    def __init__(self):
        self.bodies = []

    def __call__(self, env, start_response):
        self.bodies.append(env["wsgi.input"].read(int(env["CONTENT_LENGTH"] or 0)))
        start_response("299 Full", [("Content-Type", "text/plain")])
        return [b"full"]


def call(app, env):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(env, start_response))
    return seen["status"], seen["headers"], body


def echo(request):
    return FastResponse(201, {"got": request.data, "key": request.header("Idempotency-Key")}, (("Vary", "Accept"),))


@pytest.fixture
def full():
    return Full()


@pytest.fixture
def app(full):
    return FastPaths(full, {("POST", "/fast"): echo})


def test_a_plain_request_is_answered_by_its_handler_with_the_middleware_headers(app, full):
    status, headers, body = call(app, environ(**{"Idempotency_Key": "k-1"}))

    assert status == "201 Created"
    assert json.loads(body) == {"got": BODY, "key": "k-1"}
    assert body == render_json({"got": BODY, "key": "k-1"}) and b"\\u2028" in body
    assert headers == {"Content-Type": "application/json", "Vary": "Accept", "X-Frame-Options": "DENY",
                       "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                       "Cross-Origin-Opener-Policy": "same-origin", "Content-Length": str(len(body))}
    assert full.bodies == []


@pytest.mark.parametrize("env", [
    environ(path="/other"),
    environ(method="PUT"),
    environ(content_type="text/plain"),
    environ(content_type="application/x-www-form-urlencoded"),
    environ(host="evil.example.com"),
    environ(host=""),
    environ(b"{not json"),
    environ(b'{"n": NaN}'),
    environ(b"\xff\xfe"),
    environ(b""),
    environ(ACCEPT="text/html"),
    environ(ACCEPT="application/json; indent=4"),
], ids=["path", "method", "text", "form", "host", "no-host", "json", "nan", "utf8", "empty", "html",
        "indent"])
def test_anything_not_plain_goes_the_full_way_with_its_body(app, full, env):
    sent = env["wsgi.input"].getvalue()

    status, _, body = call(app, env)

    assert (status, body) == ("299 Full", b"full")
    assert full.bodies == [sent]


def test_a_body_over_the_upload_limit_goes_the_full_way(full, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    app = FastPaths(full, {("POST", "/fast"): echo})

    assert call(app, environ())[0] == "299 Full"

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # no limit
    assert call(FastPaths(full, {("POST", "/fast"): echo}), environ())[0] == "201 Created"


def test_a_handler_that_returns_none_or_raises_a_domain_error_hands_the_request_over(full):
    def mine_not(request):
        return None

    def refused(request):
        raise ValidationFailed({"n": ["no"]})

    for handler in (mine_not, refused):
        full.bodies.clear()
        app = FastPaths(full, {("POST", "/fast"): handler})
        assert call(app, environ())[0] == "299 Full"
        assert full.bodies == [json.dumps(BODY).encode()]


def test_an_unexpected_error_is_a_logged_500_problem(full, caplog):
    def broken(request):
        raise RuntimeError("boom")

    app = FastPaths(full, {("POST", "/fast"): broken})

    status, headers, body = call(app, environ())

    assert status == "500 Internal Server Error"
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body) == {"type": "about:blank", "title": "Internal Server Error", "status": 500,
                                "detail": "An unexpected error occurred. It has been logged."}
    assert full.bodies == []
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelname == "ERROR" and record.exc_info[0] is RuntimeError


def test_request_signals_are_sent_around_the_handler(app):
    sent = []

    def started(**kwargs):
        sent.append("started")

    def finished(**kwargs):
        sent.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        call(app, environ())
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert sent == ["started", "finished"]


@pytest.mark.parametrize("setting, value", [("WEB_FAST_PATHS", False), ("SECURE_SSL_REDIRECT", True),
                                            ("SECURE_HSTS_SECONDS", 3600), ("USE_X_FORWARDED_HOST", True)])
def test_fast_paths_are_off_when_turned_off_or_when_the_middleware_would_redirect_or_add_headers(
        full, settings, setting, value):
    setattr(settings, setting, value)
    app = FastPaths(full, {("POST", "/fast"): echo})

    assert call(app, environ())[0] == "299 Full"
