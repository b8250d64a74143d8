"""Start the carrier simulator (simulators/carrier.py) as a child process on a free loopback port
and drive it over HTTP.

    sim = start_carrier(webhook_url=f"http://127.0.0.1:{web_port}/delivery/carrier-webhook")
    settings.DELIVERY = {**settings.DELIVERY, "CARRIER_URL": sim.url}   # or CARRIER_URL=sim.url for children
    sim.reset(stepSeconds=0.3)            # forget everything, set the clock
    sim.shipment(delivery_id)["status"]   # its records
    sim.stop()
"""
from __future__ import annotations

import sys

import httpx
from django.conf import settings

from tests.support.processes import Child, child_env, free_port, wait_until

FAR_AWAY = "http://127.0.0.1:9/delivery/carrier-webhook"  # the discard port: webhooks never arrive


class CarrierSimulator:
    def __init__(self, child: Child, port: int):
        self.child = child
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def _ok(self, response: httpx.Response) -> dict:
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def reset(self, **config) -> dict:
        """Forget all shipments and notifications, mode ``normal``; ``config`` as for ``configure``."""
        return self._ok(self.http.post("/_control/reset", json=config))

    def configure(self, **config) -> dict:
        """``mode`` (normal|slow|error|down), ``slowSeconds``, ``stepSeconds``, ``autoAdvance``,
        ``webhookRetryBaseSeconds``, ``webhookRetryMaxSeconds``, ``webhookMaxAttempts``, ``webhookBatchMax``,
        ``webhookBatchWaitSeconds``."""
        return self._ok(self.http.post("/_control/config", json=config))

    def state(self) -> dict:
        return self._ok(self.http.get("/_control/state"))

    def shipments(self) -> list[dict]:
        return self.state()["shipments"]

    def shipment(self, ref) -> dict | None:
        """By tracking number or shipment key (the shop's delivery id); None when unknown."""
        response = self.http.get(f"/_control/shipments/{ref}")
        return None if response.status_code == 404 else self._ok(response)

    def advance(self, ref) -> dict:
        return self._ok(self.http.post(f"/_control/shipments/{ref}/advance"))

    def fail(self, ref, reason: str = "LOST_IN_TRANSIT") -> dict:
        return self._ok(self.http.post(f"/_control/shipments/{ref}/fail", json={"reason": reason}))

    def notify(self, ref, status: str, reason: str = "") -> dict:
        """A new notification (new event id) with ``status``, whatever the shipment's own status."""
        return self._ok(self.http.post(f"/_control/shipments/{ref}/notify", json={"status": status, "reason": reason}))

    def resend(self, event_id: str) -> dict:
        """The same notification again: same event id, body and signature."""
        return self._ok(self.http.post(f"/_control/notifications/{event_id}/resend"))

    def stop(self) -> None:
        self.http.close()
        self.child.stop()


def start_carrier(*, webhook_url: str = FAR_AWAY, secret: str | None = None, step_seconds: float = 0.5,
                  port: int | None = None, manual: bool = False, webhook_batch_max: int = 1,
                  timeout: float = 30) -> CarrierSimulator:
    """The simulator in its own process, signing with the shop's secret (settings) unless told
    otherwise; returns once it answers ``/health``."""
    port = port or free_port()
    secret = secret or settings.DELIVERY["CARRIER_WEBHOOK_SECRET"]
    args = [sys.executable, "-m", "simulators.carrier", "--port", str(port), "--webhook-url", webhook_url,
            "--secret", secret, "--step-seconds", str(step_seconds), "--webhook-retry-base-seconds", "0.2",
            "--webhook-batch-max", str(webhook_batch_max)]
    if manual:
        args.append("--manual")
    child = Child(args, child_env(), f"carrier-{port}")
    simulator = CarrierSimulator(child, port)

    def answers() -> bool:
        assert child.alive(), child.tail()
        try:
            return simulator.http.get("/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=timeout, what="the carrier simulator to answer")
    return simulator
