"""The order saga end to end over HTTP: uWSGI, real Celery workers relaying every event, the
payment gateway and carrier simulators as separate processes, PostgreSQL and Redis.

The stack is started once for the module; every test makes its own members and products."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
import redis
from django.conf import settings
from django.db.models import Sum

from tests.support.carrier import start_carrier
from tests.support.gateway import start_gateway
from tests.support.processes import free_port, start_web, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

APPROVED = "4242424242424242"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
# the Procfile's worker and shipping entries (tests/delivery/test_carrier_sync_queue.py pins them)
QUEUES = "eventbus,members,catalog,search,orders,payments"
SHIPPING_QUEUES = "carrier_sync,delivery,tracking"


@dataclass
class Shop:
    base: str
    gateway: object
    carrier: object
    web: object
    worker: object
    processor: object
    shipping: object
    env: dict

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=15)

    def start_workers(self):
        """The Procfile's split: one worker for the bus and the handlers the saga waits on (with
        beat), one for the payment processor loops, which hold their slot while they work, and one
        for shipping: carrier bookings and delivery tracking."""
        self.worker = start_worker("saga", queues=QUEUES, concurrency=2, **self.env)
        self.processor = start_worker("saga-payments", queues="payments_processor", concurrency=2, beat=False,
                                      **self.env)
        self.shipping = start_worker("saga-shipping", queues=SHIPPING_QUEUES, concurrency=2, beat=False,
                                     **self.env)

    def stop_workers(self):
        for child in (self.worker, self.processor, self.shipping):
            if child is not None:
                child.stop()

    def alive(self) -> bool:
        for child in (self.worker, self.processor, self.shipping):
            assert child.alive(), child.tail()
        return True


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gateway = start_gateway(log_name="gateway-saga")
    # batched webhooks, as under make up (tests/delivery cover the one-by-one kind end to end)
    carrier = start_carrier(webhook_url=f"{base}/delivery/carrier-webhook", step_seconds=0.3, webhook_batch_max=20)
    env = {
        "PAYMENTS_GATEWAY_URL": gateway.url, "CARRIER_URL": carrier.url,
        "PAYMENTS_RETRY_BASE_SECONDS": "0.2", "PAYMENTS_RETRY_MAX_SECONDS": "1",
        "EVENTBUS_RETRY_BASE_SECONDS": "0.2", "CELERY_LOG_LEVEL": "info",
    }
    web = start_web(port, **env)
    shop = Shop(base, gateway, carrier, web, None, None, None, env)
    try:
        yield shop
    finally:
        for child in (shop.web, gateway, carrier):
            child.stop()


@pytest.fixture(autouse=True)
def workers(shop, transactional_db):
    """Fresh workers for each test, stopped before the test database is emptied: emptying it
    takes locks on every table, which a worker in the middle of a transaction would deadlock."""
    shop.start_workers()
    yield
    shop.stop_workers()


def ok(response: httpx.Response, *expected: int) -> dict:
    assert response.status_code in (expected or (200, 201, 202)), (response.status_code, response.text)
    return response.json() if response.content else {}


def member(shop: Shop, role: str = "buyer") -> tuple[httpx.Client, str]:
    email = f"saga-{role}-{uuid.uuid4().hex[:10]}@example.com"
    with shop.client() as anonymous:
        user = ok(anonymous.post("/member/registration", json={
            "email": email, "password": "long-enough-secret", "name": f"Saga {role}", "role": role}), 201)
        token = ok(anonymous.post("/member/login", json={"email": email, "password": "long-enough-secret"}))["token"]
    return shop.client(token), user["userId"]


def buyer(shop: Shop, card: str = APPROVED) -> tuple[httpx.Client, str, str]:
    client, _ = member(shop)
    method = ok(client.post("/payment/methods", json={
        "type": "card", "cardNumber": card, "expMonth": 12, "expYear": 2035, "holderName": "Saga Buyer"}), 201)
    address = ok(client.post("/delivery/addresses", json={
        "recipient": "Saga Buyer", "phone": "+821000000000", "line1": "1 Saga Street", "city": "Seoul",
        "postalCode": "04524", "country": "KR"}), 201)
    return client, method["methodId"], address["addressId"]


def product(shop: Shop, stock: int, price: str = "15000") -> str:
    seller, _ = member(shop, "seller")
    with seller:
        return ok(seller.post("/catalog/products", json={
            "name": "Saga lamp", "description": "", "price": price, "category": "home", "stock": stock}), 201)[
            "productId"]


def order(client, method_id, address_id, product_id, quantity=1) -> dict:
    return ok(client.post("/order/process-order", json={
        "items": [{"productId": product_id, "quantity": quantity}], "paymentMethodId": method_id,
        "addressId": address_id}), 202)


def wait_for(shop: Shop, client, order_id: str, statuses: set[str], timeout: float = 60) -> dict:
    seen = {}

    def reached() -> bool:
        shop.alive()
        seen.update(ok(client.get(f"/order/orders/{order_id}")))
        return seen["status"] in statuses

    wait_until(reached, timeout=timeout, what=f"order {order_id} to reach {statuses} (last {seen})", interval=0.2)
    return seen


def stock(product_id: str) -> tuple[int, int, int]:
    from commerce.catalog.models import Stock

    s = Stock.objects.get(product_id=product_id)
    return s.on_hand, s.reserved, s.on_hand - s.reserved


def test_happy_path_from_registration_to_completed(shop):
    client, method_id, address_id = buyer(shop)
    product_id = product(shop, stock=5)
    placed = order(client, method_id, address_id, product_id, quantity=2)
    assert placed["status"] == "PENDING"
    done = wait_for(shop, client, placed["orderId"], TERMINAL)
    assert (done["status"], done["paymentStatus"], done["deliveryStatus"]) == ("COMPLETED", "APPROVED", "DELIVERED")
    payment = ok(client.get(f"/payment/payments/{done['paymentId']}"))
    assert (payment["status"], payment["orderId"], payment["amount"]) == ("APPROVED", placed["orderId"], "30000.00")
    delivery = ok(client.get(f"/delivery/deliveries/{done['deliveryId']}"))
    assert [h["status"] for h in delivery["history"]] == ["REQUESTED", "SHIPPED", "IN_TRANSIT", "DELIVERED"]
    assert len(shop.gateway.succeeded_charges(reference=placed["orderId"])) == 1
    wait_until(lambda: stock(product_id) == (3, 0, 3), timeout=20, what="the sale to be booked")


@pytest.mark.parametrize("card, reason", [
    (DECLINED, "PAYMENT_DECLINED"), (NO_FUNDS, "PAYMENT_DECLINED"), (PROCESSING_ERROR, "PAYMENT_FAILED")])
def test_a_payment_that_fails_fails_the_order_and_gives_the_stock_back(shop, card, reason):
    client, method_id, address_id = buyer(shop, card)
    product_id = product(shop, stock=3)
    placed = order(client, method_id, address_id, product_id)
    done = wait_for(shop, client, placed["orderId"], TERMINAL)
    assert (done["status"], done["failureReason"]) == ("FAILED", reason)
    wait_until(lambda: stock(product_id) == (3, 0, 3), timeout=20, what="the reservation to be released")
    assert shop.gateway.succeeded_charges(reference=placed["orderId"]) == []


def test_out_of_stock_fails_the_order_without_charging(shop):
    client, method_id, address_id = buyer(shop)
    product_id = product(shop, stock=1)
    placed = order(client, method_id, address_id, product_id, quantity=2)
    done = wait_for(shop, client, placed["orderId"], TERMINAL)
    assert (done["status"], done["failureReason"], done["paymentId"]) == ("FAILED", "OUT_OF_STOCK", None)
    assert stock(product_id) == (1, 0, 1) and shop.gateway.charges(reference=placed["orderId"]) == []


def test_cancelling_a_paid_order_releases_stock_and_refunds(shop):
    shop.carrier.configure(autoAdvance=False)  # the parcel is never picked up
    try:
        client, method_id, address_id = buyer(shop)
        product_id = product(shop, stock=2)
        placed = order(client, method_id, address_id, product_id)
        wait_for(shop, client, placed["orderId"], {"CONFIRMED"})
        cancelled = ok(client.post(f"/order/orders/{placed['orderId']}/cancel"))
        assert cancelled["status"] == "CANCELLED"

        def refunded() -> bool:
            current = ok(client.get(f"/order/orders/{placed['orderId']}"))
            return current["paymentStatus"] == "REFUNDED"

        wait_until(refunded, timeout=30, what="the refund")
        [charge] = shop.gateway.succeeded_charges(reference=placed["orderId"])
        assert charge["chargeId"] in [r["chargeId"] for r in shop.gateway.refunds()]
        wait_until(lambda: stock(product_id) == (2, 0, 2), timeout=20, what="the stock to come back")
    finally:
        shop.carrier.configure(autoAdvance=True)


def test_flash_sale_20_units_200_concurrent_orders(shop):
    shop.carrier.configure(autoAdvance=False)  # keep them CONFIRMED, not yet delivered
    try:
        buyers = [buyer(shop) for _ in range(20)]
        product_id = product(shop, stock=20)
        barrier = threading.Barrier(50)

        def place(n):
            client, method_id, address_id = buyers[n % len(buyers)]
            if n < 50:
                barrier.wait()
            return client, order(client, method_id, address_id, product_id)["orderId"]

        with ThreadPoolExecutor(50) as pool:
            placed = list(pool.map(place, range(200)))
        final = [wait_for(shop, client, order_id, TERMINAL | {"CONFIRMED"}, timeout=120) for client, order_id in placed]
        statuses = sorted((o["status"], o["failureReason"]) for o in final)
        assert statuses.count(("CONFIRMED", None)) == 20, statuses
        assert statuses.count(("FAILED", "OUT_OF_STOCK")) == 180, statuses
        assert stock(product_id) == (20, 20, 0)
    finally:
        shop.carrier.configure(autoAdvance=True)


def test_a_worker_killed_mid_stream_loses_nothing_and_doubles_nothing(shop):
    from commerce.catalog.models import Reservation

    buyers = [buyer(shop) for _ in range(5)]
    product_ids = [product(shop, stock=30) for _ in range(3)]
    placed = []
    for n in range(45):
        client, method_id, address_id = buyers[n % 5]
        placed.append((client, order(client, method_id, address_id, product_ids[n % 3])["orderId"]))
        if n == 15:
            shop.worker.kill()  # SIGKILL: tasks in flight are lost, not finished
            shop.processor.kill()  # and gateway calls in flight lose their answers
            shop.shipping.kill()  # and carrier bookings and tracking updates in flight
    shop.start_workers()
    final = [wait_for(shop, client, order_id, TERMINAL, timeout=120) for client, order_id in placed]
    assert {o["status"] for o in final} == {"COMPLETED"}, [o["status"] for o in final]
    for order_info in final:
        assert len(shop.gateway.succeeded_charges(reference=order_info["orderId"])) == 1
    for product_id in product_ids:
        wait_until(lambda pid=product_id: stock(pid) == (15, 0, 15), timeout=30, what="every sale to be booked")
        held = Reservation.objects.filter(product_id=product_id).aggregate(n=Sum("quantity"))["n"]
        assert held == 15  # one reservation per order, none doubled


def test_someone_elses_order_payment_delivery_method_and_address_are_404(shop):
    a, method_id, address_id = buyer(shop)
    b, _, _ = buyer(shop)
    product_id = product(shop, stock=1)
    placed = order(a, method_id, address_id, product_id)
    done = wait_for(shop, a, placed["orderId"], TERMINAL)
    assert ok(b.get(f"/order/orders/{placed['orderId']}"), 404)["status"] == 404
    assert ok(b.post(f"/order/orders/{placed['orderId']}/cancel"), 404)["status"] == 404
    assert ok(b.get(f"/payment/payments/{done['paymentId']}"), 404)["status"] == 404
    assert ok(b.get(f"/delivery/deliveries/{done['deliveryId']}"), 404)["status"] == 404
    assert ok(b.post(f"/payment/methods/{method_id}", json={"holderName": "Thief"}), 404)["status"] == 404
    assert method_id not in [m["methodId"] for m in ok(b.get("/payment/methods"))["items"]]
    assert address_id not in [x["addressId"] for x in ok(b.get("/delivery/addresses"))["items"]]
    # and B cannot order with A's card or address
    response = b.post("/order/process-order", json={
        "items": [{"productId": product_id, "quantity": 1}], "paymentMethodId": method_id, "addressId": address_id})
    assert response.status_code == 400 and {"paymentMethodId", "addressId"} <= set(response.json()["errors"])
