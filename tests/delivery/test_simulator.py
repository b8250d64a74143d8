"""The carrier simulator on its own, over HTTP: idempotent bookings, a clock, signed webhooks that
are retried until the receiver takes them, failures, replays, and many calls at once."""
import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.conf import settings

from commerce.delivery.carrier import HttpCarrier
from simulators.carrier import main as carrier_main
from tests.support.carrier import FAR_AWAY, start_carrier
from tests.support.processes import free_port, wait_until

ADDRESS = {"recipient": "Lee Jiwoo", "line1": "1 Sample-gil", "city": "Busan", "postalCode": "48058", "country": "KR"}


class Receiver:
    """A tiny webhook endpoint in this process: records what arrives, can answer 500 a few times."""

    def __init__(self):
        self.received: list[tuple[bytes, dict]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = receiver.fail_next > 0
                receiver.fail_next -= 1
                if not failing:
                    receiver.received.append((body, dict(self.headers)))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notifications(self, key=None) -> list[dict]:
        """Every notification received, a batch's one by one."""
        items = []
        for body, _ in self.received:
            data = json.loads(body)
            items.extend(data["events"] if "events" in data else [data])
        return [n for n in items if key is None or n["shipmentKey"] == key]


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def simulator_process(receiver):
    simulator = start_carrier(webhook_url=receiver.url, step_seconds=0.2)
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(simulator_process, receiver):
    simulator_process.reset(autoAdvance=True, stepSeconds=0.2, webhookRetryBaseSeconds=0.1, webhookMaxAttempts=10,
                            webhookBatchMax=1)
    receiver.received.clear()
    receiver.fail_next = 0
    return simulator_process


def book(sim, key, **extra):
    return sim.http.post("/shipments", json={"shipmentKey": key, "address": ADDRESS, "lines": [], **extra})


def test_a_booking_is_idempotent_by_shipment_key(sim):
    first, again, other = book(sim, "k-1"), book(sim, "k-1"), book(sim, "k-2")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["trackingNumber"] == again.json()["trackingNumber"] != other.json()["trackingNumber"]
    assert sim.shipment("k-1")["createCalls"] == 2
    assert len(sim.shipments()) == 2


@pytest.mark.parametrize("body", [{}, {"shipmentKey": "k"}, {"shipmentKey": "", "address": ADDRESS},
                                  {"shipmentKey": "k", "address": {"city": "Busan"}}])
def test_an_incomplete_booking_is_a_422(sim, body):
    assert sim.http.post("/shipments", json=body).status_code == 422
    assert sim.shipments() == []


def test_the_clock_moves_a_shipment_and_signs_every_notification(sim, receiver):
    tracking = book(sim, "k-clock").json()["trackingNumber"]
    wait_until(lambda: len(receiver.notifications("k-clock")) == 3, timeout=10, what="three notifications")
    notes = receiver.notifications("k-clock")
    assert [n["status"] for n in notes] == ["SHIPPED", "IN_TRANSIT", "DELIVERED"]
    assert {n["trackingNumber"] for n in notes} == {tracking}
    assert len({n["eventId"] for n in notes}) == 3
    shop = HttpCarrier(base_url=sim.url, webhook_secret=settings.DELIVERY["CARRIER_WEBHOOK_SECRET"])
    for body, headers in receiver.received:
        assert shop.parse_webhook(body=body, headers=headers).shipment_key == "k-clock"
    # the carrier marks a notification delivered once it has read the answer, just after we got it
    wait_until(lambda: all(n["deliveredAt"] for n in sim.shipment(tracking)["notifications"]), timeout=10,
               what="every notification marked delivered")
    record = sim.shipment(tracking)
    assert record["status"] == "DELIVERED"
    assert all(n["attempts"] == 1 for n in record["notifications"])


def test_a_failing_receiver_gets_the_notification_again_with_backoff(sim, receiver):
    sim.configure(autoAdvance=False)
    book(sim, "k-retry")
    receiver.fail_next = 2
    started = time.monotonic()
    sim.advance("k-retry")
    wait_until(lambda: receiver.notifications("k-retry"), timeout=10, what="the third attempt")
    assert time.monotonic() - started >= 0.2  # 0.1 s then 0.2 s (+-20 %) between the attempts
    [note] = sim.shipment("k-retry")["notifications"]
    assert (note["attempts"], note["lastResponse"]) == (3, "200") and note["deliveredAt"]


def test_the_carrier_gives_up_after_its_maximum_attempts(sim, receiver):
    sim.configure(autoAdvance=False, webhookMaxAttempts=2)
    book(sim, "k-give-up")
    receiver.fail_next = 10
    sim.advance("k-give-up")
    wait_until(lambda: sim.shipment("k-give-up")["notifications"][0]["gaveUp"], timeout=10, what="giving up")
    assert sim.shipment("k-give-up")["notifications"][0]["attempts"] == 2


def test_batched_notifications_go_out_together_signed_and_are_retried_as_a_whole(sim, receiver):
    sim.configure(autoAdvance=False, webhookBatchMax=2, webhookBatchWaitSeconds=0.3)
    for key in ("k-b1", "k-b2", "k-b3"):
        book(sim, key)
    receiver.fail_next = 1
    for key in ("k-b1", "k-b2", "k-b3"):
        sim.advance(key)
    wait_until(lambda: len(receiver.notifications()) == 3, timeout=10, what="three notifications")
    bodies = [json.loads(body) for body, _ in receiver.received]
    assert sorted(len(body["events"]) for body in bodies) == [1, 2]  # at most webhookBatchMax a POST
    shop = HttpCarrier(base_url=sim.url, webhook_secret=settings.DELIVERY["CARRIER_WEBHOOK_SECRET"])
    parsed = [shop.parse_webhook(body=body, headers=headers) for body, headers in receiver.received]
    assert sorted(u.shipment_key for batch in parsed for u in batch.items) == ["k-b1", "k-b2", "k-b3"]
    assert {n["status"] for n in receiver.notifications()} == {"SHIPPED"}
    def records():
        return [sim.shipment(key)["notifications"][0] for key in ("k-b1", "k-b2", "k-b3")]

    wait_until(lambda: all(r["deliveredAt"] for r in records()), timeout=10, what="all marked delivered")
    records = records()
    # the first POST got a 500: both notifications in it were sent again, together
    assert sorted(r["attempts"] for r in records) in ([1, 2, 2], [1, 1, 2])
    assert all(r["lastResponse"] == "200" and r["deliveredAt"] and not r["gaveUp"] for r in records)


@pytest.mark.parametrize("body", [{"webhookBatchMax": 0}, {"webhookBatchMax": 501}, {"webhookBatchMax": True},
                                  {"webhookBatchWaitSeconds": -1}, {"webhookBatchWaitSeconds": "1"}])
def test_a_batch_setting_out_of_range_is_refused(sim, body):
    response = sim.http.post("/_control/config", json=body)
    assert response.status_code == 422
    assert sim.http.get("/_control/state").json()["config"]["webhookBatchMax"] == 1


def test_an_unreachable_receiver_is_recorded_on_every_attempt_until_the_carrier_gives_up():
    simulator = start_carrier(webhook_url=FAR_AWAY, manual=True)  # nothing listens there: refused
    try:
        simulator.configure(webhookMaxAttempts=2, webhookRetryBaseSeconds=0.05)
        book(simulator, "k-away")
        simulator.advance("k-away")
        wait_until(lambda: simulator.shipment("k-away")["notifications"][0]["gaveUp"], timeout=10, what="giving up")
        [note] = simulator.shipment("k-away")["notifications"]
        assert (note["attempts"], note["lastResponse"], note["deliveredAt"]) == (2, "ConnectionRefusedError", None)
    finally:
        simulator.stop()


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "127.0.0.1:8000/hook", "http:///hook"])
def test_a_webhook_url_the_carrier_cannot_post_to_stops_it_at_start(url, capsys):
    with pytest.raises(SystemExit) as stopped:
        carrier_main(["--webhook-url", url])
    assert stopped.value.code == 2 and "--webhook-url" in capsys.readouterr().err


def test_a_failed_shipment_is_notified_with_its_reason_and_stops(sim, receiver):
    sim.configure(autoAdvance=False)
    book(sim, "k-fail")
    sim.advance("k-fail")
    sim.fail("k-fail", reason="DAMAGED")
    wait_until(lambda: len(receiver.notifications("k-fail")) == 2, timeout=10, what="the FAILED notification")
    # webhooks are sent concurrently: they may arrive in either order (the shop copes with both)
    assert sorted((n["status"], n["reason"]) for n in receiver.notifications("k-fail")) == [
        ("FAILED", "DAMAGED"), ("SHIPPED", "")]
    assert sim.http.post("/_control/shipments/k-fail/advance").status_code == 409


def test_a_notification_can_be_sent_again_or_made_up(sim, receiver):
    sim.configure(autoAdvance=False)
    book(sim, "k-replay")
    shipped = sim.advance("k-replay")
    sim.resend(shipped["eventId"])
    late = sim.notify("k-replay", "SHIPPED")
    wait_until(lambda: len(receiver.notifications("k-replay")) == 3, timeout=10, what="three notifications")
    by_event: dict[str, list] = {}
    for body, headers in receiver.received:  # the three travel concurrently: any arrival order
        by_event.setdefault(json.loads(body)["eventId"], []).append((body, headers["X-Carrier-Signature"]))
    assert sorted(map(len, by_event.values())) == [1, 2]
    first, again = by_event[shipped["eventId"]]
    assert first == again  # same body, same signature
    [(made_up, _)] = by_event[late["eventId"]]
    assert json.loads(made_up)["status"] == "SHIPPED" and late["eventId"] != shipped["eventId"]


def test_cancel_before_shipping_stops_the_clock_and_after_is_409(sim, receiver):
    book(sim, "k-cancel")
    assert sim.http.post("/shipments/k-cancel/cancel").json()["outcome"] == "cancelled"
    book(sim, "k-late")
    wait_until(lambda: sim.shipment("k-late")["status"] != "ACCEPTED", timeout=10, what="k-late to ship")
    assert sim.http.post("/shipments/k-late/cancel").status_code == 409
    time.sleep(0.8)  # four clock steps: a cancelled shipment must not move
    assert sim.shipment("k-cancel")["status"] == "CANCELLED" and receiver.notifications("k-cancel") == []


@pytest.mark.parametrize(("mode", "expected"), [("error", 503), ("down", None)])
def test_the_shops_calls_can_be_refused_while_control_still_answers(sim, mode, expected):
    sim.configure(mode=mode)
    if expected is None:
        with pytest.raises(httpx.HTTPError):
            book(sim, "k-mode")
    else:
        assert book(sim, "k-mode").status_code == expected
    assert sim.state()["refusedCalls"] == 1 and sim.shipments() == []


def test_hundreds_of_bookings_in_flight_at_once(sim):
    sim.configure(autoAdvance=False, mode="slow", slowSeconds=0.5)  # each call held open for 0.5 s

    async def run():
        async with httpx.AsyncClient(base_url=sim.url, timeout=30,
                                     limits=httpx.Limits(max_connections=400)) as client:
            started = time.monotonic()
            responses = await asyncio.gather(*(client.post("/shipments", json={
                "shipmentKey": f"bulk-{n}", "address": ADDRESS, "lines": []}) for n in range(300)))
            return responses, time.monotonic() - started

    responses, elapsed = asyncio.run(run())
    assert all(r.status_code == 201 for r in responses)
    assert len({r.json()["trackingNumber"] for r in responses}) == 300
    # served concurrently: 300 calls of 0.5 s each in far less than 300 x 0.5 s
    assert elapsed < 15, elapsed
