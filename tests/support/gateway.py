"""The payment gateway simulator (simulators/gateway.py) as a child process on a free loopback
port, and a small client for its control endpoints (faults, its own record of charges).

    gateway = start_gateway()            # waits until it answers
    gateway.url                          # point PAYMENTS["GATEWAY_URL"] / PAYMENTS_GATEWAY_URL here
    gateway.faults(mode="down")          # or mode="timeout"|"error"|"ok", latency_ms=200, times=1
    gateway.charges(reference=order_id)  # what it charged
    gateway.stop()
"""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from tests.support.processes import Child, child_env, free_port, wait_until


class GatewaySimulator:
    def __init__(self, child: Child, port: int):
        self.child, self.port = child, port
        self.url = f"http://127.0.0.1:{port}"

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def answers(self) -> bool:
        try:
            return self._call("GET", "/health")["status"] == "ok"
        except (OSError, urllib.error.URLError, ValueError):
            assert self.child.alive(), self.child.tail()
            return False

    def faults(self, *, mode: str = "ok", latency_ms: int | None = None, times: int | None = None) -> dict:
        body: dict = {"mode": mode, "times": times}
        if latency_ms is not None:
            body["latencyMs"] = latency_ms
        return self._call("POST", "/control/faults", body)

    def charges(self, *, reference: str | None = None) -> list[dict]:
        query = f"?reference={reference}" if reference else ""
        return self._call("GET", f"/control/charges{query}")["charges"]

    def succeeded_charges(self, *, reference: str | None = None) -> list[dict]:
        return [c for c in self.charges(reference=reference) if c["status"] == "succeeded"]

    def refunds(self) -> list[dict]:
        return self._call("GET", "/control/refunds")["refunds"]

    def stats(self) -> dict:
        return self._call("GET", "/control/stats")

    def reset(self) -> None:
        self._call("POST", "/control/reset", {})

    def log_text(self) -> str:
        return self.child.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.child.stop()


def start_gateway(*, port: int | None = None, timeout_hold: float = 30.0,
                  log_name: str = "gateway") -> GatewaySimulator:
    """Start the simulator on ``port`` (a free one by default) and wait until it answers."""
    port = port or free_port()
    args = [sys.executable, "-m", "simulators.gateway", "--port", str(port), "--timeout-hold", str(timeout_hold)]
    child = Child(args, child_env(), log_name)
    gateway = GatewaySimulator(child, port)
    wait_until(gateway.answers, timeout=20, what="the gateway simulator to answer")
    return gateway
