"""A product created over HTTP becomes searchable over HTTP: uWSGI, the outbox, a real Celery
worker relaying to the search handlers, Redis."""
import json
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings

from tests.support.processes import free_port, start_web, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def call(url, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_product_created_over_http_is_found_by_search(search_index):
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_web(port)
    worker = start_worker("search-e2e", queues="eventbus,catalog,search")
    try:
        account = {"email": "e2e-seller@example.com", "password": "long-enough-secret"}
        assert call(f"{base}/member/registration", {**account, "name": "Seller", "role": "seller"})[0] == 201
        token = call(f"{base}/member/login", account)[1]["token"]
        status, product = call(f"{base}/catalog/products", {
            "name": "블루투스 무선 이어폰", "description": "Bluetooth earbuds", "price": "39000",
            "category": "electronics", "stock": 3}, token)
        assert status == 201, product

        def found():
            assert worker.alive(), worker.tail()
            status, body = call(f"{base}/catalog/search", {"query": "이어폰", "filters": {"inStock": True}})
            assert status == 200, body
            return [item["productId"] for item in body["items"]] == [product["productId"]]

        wait_until(found, timeout=30, what="the new product to be searchable")
    finally:
        web.stop()
        worker.stop()


def test_a_lost_index_is_rebuilt_by_the_worker_while_search_answers_503(search_index, seller):
    from commerce.catalog import services

    services.product_create(seller_id=seller.id, name="Survivor lamp", description="", price="1000",
                            currency="KRW", category="home", attributes={}, stock=1)
    search_index.flushdb()  # Redis restarted without persistence: the index is gone
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_web(port)
    worker = start_worker("search-rebuild", queues="eventbus,catalog,search")
    try:
        status, body = call(f"{base}/catalog/search", {"query": "lamp"})
        assert status == 503, body

        def answers_again():
            assert worker.alive(), worker.tail()
            status, body = call(f"{base}/catalog/search", {"query": "lamp"})
            return status == 200 and [item["name"] for item in body["items"]] == ["Survivor lamp"]

        wait_until(answers_again, timeout=30, what="the rebuilt index to answer")
    finally:
        web.stop()
        worker.stop()
