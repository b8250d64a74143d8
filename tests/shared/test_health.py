import pytest

pytestmark = pytest.mark.django_db


def broken_check():
    raise ConnectionError("down")


def test_health_is_ok_when_the_database_redis_and_cassandra_answer(api_client):
    response = api_client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "cassandra": "ok"}}


def test_health_is_503_naming_redis_when_redis_is_unreachable(api_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = api_client.get("/health")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "error", "cassandra": "ok"}
    assert response.json()["status"] != "ok"


def test_health_runs_every_configured_check(api_client, settings):
    settings.HEALTH_CHECKS = {**settings.HEALTH_CHECKS, "search": "tests.shared.test_health.broken_check"}

    response = api_client.get("/health")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "cassandra": "ok", "search": "error"}


def test_health_needs_no_token_and_ignores_a_bad_one(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")

    assert api_client.get("/health").status_code == 200
