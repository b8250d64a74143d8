"""HTTP load for the running shop (`make up`): product reads.

    .venv/bin/locust -f loadtest/locustfile.py --headless -u 64 -r 64 -t 30s --host http://127.0.0.1:8000

On start, one seller registers (through the API) and creates PRODUCTS products; then every
simulated client reads random ones with GET /catalog/products/{id}.
"""
from __future__ import annotations

import os
import random
import uuid

from locust import FastHttpUser, between, events, task

PRODUCTS = int(os.environ.get("LOCUST_PRODUCTS", "200"))
product_ids: list[str] = []


@events.test_start.add_listener
def create_products(environment, **_kwargs):
    import requests

    host = environment.host
    email = f"locust-seller-{uuid.uuid4().hex[:8]}@example.com"
    password = "locust-password-1"
    session = requests.Session()
    session.post(f"{host}/member/registration", json={"email": email, "password": password,
                                                       "name": "Locust Seller", "role": "seller"}).raise_for_status()
    token = session.post(f"{host}/member/login", json={"email": email, "password": password}).json()["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    for i in range(PRODUCTS):
        response = session.post(f"{host}/catalog/products", json={
            "name": f"Load test product {i}", "description": "made by the locustfile", "price": "12900.00",
            "category": "electronics", "stock": 100,
        })
        response.raise_for_status()
        product_ids.append(response.json()["productId"])


class ProductReader(FastHttpUser):
    wait_time = between(0, 0)

    @task
    def read_product(self):
        self.client.get(f"/catalog/products/{random.choice(product_ids)}", name="/catalog/products/{id}")
