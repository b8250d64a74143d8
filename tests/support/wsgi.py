"""Calling the WSGI application the web server runs (config/wsgi.py) directly, as the fast-path
tests do: a request's environ, its answer, and Django's application counting what reaches it."""
from __future__ import annotations

import io

from config.wsgi import fast_paths


def environ(path: str, raw: bytes, **headers) -> dict:
    """A POST of ``raw`` (JSON) to ``path``; ``headers`` by WSGI name without ``HTTP_``
    (``Idempotency_Key="k"``)."""
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
           "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)), "HTTP_HOST": "127.0.0.1:8000",
           "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
           "REMOTE_ADDR": "127.0.0.1"}
    env.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return env


def call(app, env) -> tuple[int, dict, bytes]:
    """``(status, headers, body)`` of one request."""
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = int(status[:3]), dict(headers)

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return seen["status"], seen["headers"], body


class Counting:
    """Django's application (the full stack), counting the requests that reach it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, env, start_response):
        self.calls += 1
        return fast_paths.app(env, start_response)
