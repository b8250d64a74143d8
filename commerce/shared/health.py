"""Readiness checks behind ``GET /health``.

Each check is a function that returns when its dependency answers and raises otherwise. They are
listed in ``settings.HEALTH_CHECKS`` (name -> dotted path), so a context that brings a new
dependency (e.g. Cassandra) adds one function and one settings entry.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connections, transaction
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

OK, ERROR = "ok", "error"


def _timeout_seconds() -> float:
    return float(getattr(settings, "HEALTH_CHECK_TIMEOUT_SECONDS", 1.0))


def check_database() -> None:
    milliseconds = int(_timeout_seconds() * 1000)
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{milliseconds}ms"])
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    timeout = _timeout_seconds()
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def check_cassandra() -> None:
    """A real CQL query on the node the ``cassandra`` database alias names."""
    from commerce.shared import cassandra

    cassandra.session().execute("SELECT release_version FROM system.local", timeout=_timeout_seconds()).one()


def configured_checks() -> dict[str, Callable[[], None]]:
    return {name: import_string(path) for name, path in settings.HEALTH_CHECKS.items()}


def run_checks() -> dict[str, str]:
    """``{"database": "ok", "redis": "error", ...}``; failures are logged, never raised."""
    results = {}
    for name, check in configured_checks().items():
        try:
            check()
        except Exception as exc:  # any failure means "not ready", whatever its type
            log.warning("health check %s failed: %s", name, exc)
            results[name] = ERROR
        else:
            results[name] = OK
    return results
