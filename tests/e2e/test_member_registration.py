"""The whole chain with real processes: uWSGI serves the API, a Celery worker (with beat) relays
the outbox, and a subscriber registered for the test sees the new member."""
import json
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.support.processes import free_port, start_web, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probe_table"), pytest.mark.e2e]


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def probe_effects_for(aggregate_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT handler FROM probe_effect WHERE aggregate_id = %s", [aggregate_id])
        return [row[0] for row in cursor.fetchall()]


def test_member_registered_over_http_reaches_a_subscriber_through_a_real_worker():
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    port = free_port()
    web = start_web(port)
    worker = start_worker("e2e")
    try:
        status, body = post_json(f"http://127.0.0.1:{port}/member/registration", {
            "email": "e2e-buyer@example.com", "password": "long-enough-secret", "name": "E2E Buyer",
            "role": "buyer",
        })
        assert status == 201, body
        member_id = body["userId"]

        def handled():
            assert worker.alive(), worker.tail()
            return probe_effects_for(member_id) != []

        wait_until(handled, timeout=30, what="the subscriber to see the registration")
        assert probe_effects_for(member_id) == ["probe.record"]

        status, body = post_json(f"http://127.0.0.1:{port}/member/login",
                                 {"email": "e2e-buyer@example.com", "password": "long-enough-secret"})
        assert status == 200 and body["userId"] == member_id
    finally:
        web.stop()
        worker.stop()
