"""A local stand-in for a parcel carrier: an asynchronous HTTP server (aiohttp) on loopback.

The shop books shipments here (idempotent by the shop's shipment key) and can cancel them before
they leave; each shipment then moves ``SHIPPED`` -> ``IN_TRANSIT`` -> ``DELIVERED`` on a clock,
and every step is told to the shop by a signed webhook (HMAC-SHA256 of the raw body with a shared
secret, header ``X-Carrier-Signature: sha256=<hex>``), retried with backoff until the shop
answers 2xx. Webhooks go out on plain asyncio streams, one ``Connection: close`` POST per
connection (the shop's uWSGI closes every connection anyway, and a client library's pooling and
parsing cost more CPU per webhook than the carrier can spare under load). Control endpoints
under ``/_control/`` let tests make the carrier slow, failing or unreachable, fail a shipment,
send or resend a given notification, and read its records. All state is in memory. Usage and
endpoints: simulators/README.md, section "Carrier".

    python -m simulators.carrier --port 58102 --webhook-url http://127.0.0.1:8000/delivery/carrier-webhook
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger("carrier")

SIGNATURE_HEADER = "X-Carrier-Signature"
LOCAL_ONLY_SECRET = "local-only-carrier-webhook-secret"  # the shop's local default; never a real secret
STEPS = ("SHIPPED", "IN_TRANSIT", "DELIVERED")
NOTIFIABLE = (*STEPS, "FAILED", "CANCELLED")
MODES = ("normal", "slow", "error", "down")
KEY_MAX = 100


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Notification:
    event_id: str
    tracking_number: str
    shipment_key: str
    status: str
    occurred_at: str
    reason: str = ""
    attempts: int = 0
    delivered_at: str | None = None
    last_response: str = ""
    gave_up: bool = False

    def payload(self) -> dict:
        return {"eventId": self.event_id, "type": "shipment.status_changed", "trackingNumber": self.tracking_number,
                "shipmentKey": self.shipment_key, "status": self.status, "occurredAt": self.occurred_at,
                "reason": self.reason}

    def body(self) -> bytes:
        return json.dumps(self.payload(), separators=(",", ":")).encode()

    def record(self) -> dict:
        return {"eventId": self.event_id, "status": self.status, "occurredAt": self.occurred_at,
                "reason": self.reason, "attempts": self.attempts, "deliveredAt": self.delivered_at,
                "lastResponse": self.last_response, "gaveUp": self.gave_up}


@dataclass
class Shipment:
    tracking_number: str
    shipment_key: str
    address: dict
    lines: list
    status: str = "ACCEPTED"
    created_at: str = field(default_factory=now_iso)
    create_calls: int = 1
    cancel_calls: int = 0
    notifications: list[Notification] = field(default_factory=list)
    clock: asyncio.Task | None = None

    def record(self) -> dict:
        return {"trackingNumber": self.tracking_number, "shipmentKey": self.shipment_key, "status": self.status,
                "address": self.address, "lines": self.lines, "createdAt": self.created_at,
                "createCalls": self.create_calls, "cancelCalls": self.cancel_calls,
                "notifications": [n.record() for n in self.notifications]}


@dataclass(frozen=True)
class WebhookTarget:
    """Where webhooks go, parsed once: the address to connect to and the request's fixed lines."""

    host: str
    port: int
    head: bytes  # request line and the headers that never change, each ending in CRLF

    @classmethod
    def parse(cls, url: str) -> WebhookTarget:
        """``http://host[:port][/path][?query]``; anything else is a ValueError saying why."""
        if not url.isascii() or not url.isprintable() or " " in url:
            raise ValueError(f"webhook URL must be printable ASCII without spaces (percent-encode the rest): {url!r}")
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError(f"webhook URL must start with http:// (no TLS here), not {url!r}")
        if not parts.hostname:
            raise ValueError(f"webhook URL has no host: {url!r}")
        if parts.username is not None:
            raise ValueError(f"webhook URL must not carry credentials: {url!r}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: application/json\r\nConnection: close\r\n").encode("ascii")
        port = parts.port  # a ValueError if it is not a port number
        return cls(host=parts.hostname, port=80 if port is None else port, head=head)

    def request(self, body: bytes, signature: str) -> bytes:
        return (self.head + f"Content-Length: {len(body)}\r\n{SIGNATURE_HEADER}: {signature}\r\n\r\n".encode()
                + body)


class MalformedResponse(Exception):
    """The receiver answered something that is not an HTTP/1.x response."""


def content_length(header_lines: bytes) -> int | None:
    """The Content-Length among a response's header lines, or None when there is none."""
    for line in header_lines.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            if not value.strip().isdigit():
                raise MalformedResponse(f"bad Content-Length: {value!r}")
            return int(value)
    return None


async def read_response(reader: asyncio.StreamReader) -> int:
    """The status code of the response on ``reader``, once all of it is read (to its
    Content-Length, or to the end of the connection)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise ConnectionResetError("the receiver closed the connection without a complete answer") from None
    status_line, _, header_lines = head.partition(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    status = rest[:3]
    if not version.startswith(b"HTTP/1.") or not status.isdigit():
        raise MalformedResponse(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    length = content_length(header_lines)
    if length is None:
        await reader.read()  # to EOF: we asked for Connection: close
    else:
        await reader.readexactly(length)
    return int(status)


async def post_once(target: WebhookTarget, request: bytes) -> int:
    """One request on a connection of its own; the answer's status code."""
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        writer.write(request)
        return await read_response(reader)
    finally:
        writer.close()


@dataclass
class Config:
    webhook_url: str
    secret: str
    step_seconds: float = 5.0
    auto_advance: bool = True
    webhook_retry_base_seconds: float = 1.0
    webhook_retry_max_seconds: float = 60.0
    webhook_max_attempts: int = 10
    webhook_timeout_seconds: float = 5.0
    max_webhooks_in_flight: int = 256
    # more than 1: notifications due within webhook_batch_wait_seconds of each other go out
    # together, up to this many in one POST ({"events": [...]}); 1 sends each on its own
    webhook_batch_max: int = 1
    webhook_batch_wait_seconds: float = 0.05
    # how the carrier treats the shop's calls (not the control endpoints)
    mode: str = "normal"
    slow_seconds: float = 3.0
    webhook_target: WebhookTarget = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.webhook_target = WebhookTarget.parse(self.webhook_url)

    def public(self) -> dict:
        return {"webhookUrl": self.webhook_url, "stepSeconds": self.step_seconds, "autoAdvance": self.auto_advance,
                "webhookRetryBaseSeconds": self.webhook_retry_base_seconds,
                "webhookRetryMaxSeconds": self.webhook_retry_max_seconds,
                "webhookMaxAttempts": self.webhook_max_attempts, "webhookBatchMax": self.webhook_batch_max,
                "webhookBatchWaitSeconds": self.webhook_batch_wait_seconds, "mode": self.mode,
                "slowSeconds": self.slow_seconds}


class Carrier:
    """The carrier's state and behaviour; the aiohttp handlers below only translate HTTP."""

    def __init__(self, config: Config):
        self.config = config
        self.by_key: dict[str, Shipment] = {}
        self.by_tracking: dict[str, Shipment] = {}
        self.cancelled_keys: set[str] = set()  # cancelled before we ever saw the shipment
        self.notifications: dict[str, Notification] = {}
        self.refused_calls = 0
        self.webhook_tasks: set[asyncio.Task] = set()
        self.unsent: list[Notification] = []  # waiting for the next batch
        self.batcher: asyncio.Task | None = None
        self.in_flight: asyncio.Semaphore | None = None

    async def start(self, _app=None) -> None:
        self.in_flight = asyncio.Semaphore(self.config.max_webhooks_in_flight)

    async def stop(self, _app=None) -> None:
        tasks = list(self.webhook_tasks)
        self.reset()
        await asyncio.gather(*tasks, return_exceptions=True)  # let them close their connections

    def reset(self) -> None:
        for shipment in self.by_key.values():
            if shipment.clock is not None:
                shipment.clock.cancel()
        for task in list(self.webhook_tasks):
            task.cancel()
        self.by_key.clear()
        self.by_tracking.clear()
        self.cancelled_keys.clear()
        self.notifications.clear()
        self.unsent.clear()
        self.refused_calls = 0

    # --- the shop's calls --------------------------------------------------------------------

    def accept(self, key: str, address: dict, lines: list) -> tuple[Shipment, bool]:
        """Book a shipment; the same key answers the same shipment again (created=False)."""
        shipment = self.by_key.get(key)
        if shipment is not None:
            shipment.create_calls += 1
            return shipment, False
        tracking = "SIM" + secrets.token_hex(6).upper()
        shipment = Shipment(tracking_number=tracking, shipment_key=key, address=address, lines=lines)
        self.by_key[key] = shipment
        self.by_tracking[tracking] = shipment
        if key in self.cancelled_keys:  # the shop cancelled before its booking reached us
            shipment.status = "CANCELLED"
        elif self.config.auto_advance:
            shipment.clock = asyncio.create_task(self._run_clock(shipment))
        return shipment, True

    def cancel(self, key: str) -> tuple[str, Shipment | None]:
        """``cancelled``, ``too_late`` (already on its way or done) or ``unknown`` (remembered, so a
        booking that arrives later with this key is born cancelled)."""
        shipment = self.by_key.get(key)
        if shipment is None:
            self.cancelled_keys.add(key)
            return "unknown", None
        shipment.cancel_calls += 1
        if shipment.status in ("ACCEPTED", "CANCELLED"):
            if shipment.clock is not None:
                shipment.clock.cancel()
            shipment.status = "CANCELLED"
            return "cancelled", shipment
        return "too_late", shipment

    # --- progress and notifications ------------------------------------------------------------

    async def _run_clock(self, shipment: Shipment) -> None:
        try:
            for status in STEPS:
                await asyncio.sleep(self.config.step_seconds)
                if shipment.status in ("CANCELLED", "FAILED", "DELIVERED"):
                    return
                self.move(shipment, status)
        except asyncio.CancelledError:
            pass

    def advance(self, shipment: Shipment) -> Notification | None:
        """One step forward by hand (with ``autoAdvance`` off)."""
        if shipment.status == "ACCEPTED":
            return self.move(shipment, STEPS[0])
        if shipment.status in STEPS[:-1]:
            return self.move(shipment, STEPS[STEPS.index(shipment.status) + 1])
        return None

    def fail(self, shipment: Shipment, reason: str) -> Notification:
        if shipment.clock is not None:
            shipment.clock.cancel()
        return self.move(shipment, "FAILED", reason)

    def move(self, shipment: Shipment, status: str, reason: str = "") -> Notification:
        shipment.status = status
        return self.notify(shipment, status, reason)

    def notify(self, shipment: Shipment, status: str, reason: str = "") -> Notification:
        """A new notification (new event id) about ``shipment``, whatever its status; sent at once."""
        notification = Notification(event_id="evt_" + uuid.uuid4().hex, tracking_number=shipment.tracking_number,
                                    shipment_key=shipment.shipment_key, status=status, occurred_at=now_iso(),
                                    reason=reason)
        shipment.notifications.append(notification)
        self.notifications[notification.event_id] = notification
        self.send(notification)
        return notification

    def send(self, notification: Notification) -> None:
        if self.config.webhook_batch_max <= 1:
            self._spawn(self._deliver([notification], batch=False))
            return
        self.unsent.append(notification)
        if self.batcher is None or self.batcher.done():
            self.batcher = self._spawn(self._send_batches())

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.webhook_tasks.add(task)
        task.add_done_callback(self.webhook_tasks.discard)
        return task

    async def _send_batches(self) -> None:
        """Wait a moment for more notifications, then send all that are waiting, in batches."""
        try:
            await asyncio.sleep(self.config.webhook_batch_wait_seconds)
        finally:  # cancelled by a reset, which forgets the waiting ones anyway
            self.batcher = None
        size = max(self.config.webhook_batch_max, 1)
        while self.unsent:
            batch, self.unsent = self.unsent[:size], self.unsent[size:]
            self._spawn(self._deliver(batch, batch=True))

    async def _deliver(self, notifications: list[Notification], *, batch: bool) -> None:
        """POST until the shop answers 2xx, with exponential backoff (and jitter) between tries; a
        batch is sent (and sent again) as a whole."""
        if batch:
            body = json.dumps({"events": [n.payload() for n in notifications]}, separators=(",", ":")).encode()
        else:
            body = notifications[0].body()
        target = self.config.webhook_target
        request = target.request(body, sign(self.config.secret, body))
        for notification in notifications:
            notification.gave_up = False
        attempt = 0
        while True:
            attempt += 1
            for notification in notifications:
                notification.attempts += 1
            try:
                async with self.in_flight, asyncio.timeout(self.config.webhook_timeout_seconds):
                    status = await post_once(target, request)
                response = str(status)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused, timeout, reset: the shop is away
                status, response = 0, type(exc).__name__
            delivered_at = now_iso() if 200 <= status < 300 else None
            for notification in notifications:
                notification.last_response = response
                notification.delivered_at = delivered_at or notification.delivered_at
            if delivered_at:
                return
            if attempt >= self.config.webhook_max_attempts:
                for notification in notifications:
                    notification.gave_up = True
                log.warning("carrier: gave up on %s after %d attempts",
                            ", ".join(n.event_id for n in notifications), attempt)
                return
            delay = min(self.config.webhook_retry_base_seconds * 2 ** (attempt - 1),
                        self.config.webhook_retry_max_seconds)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))


# --- HTTP ------------------------------------------------------------------------------------------

CARRIER = web.AppKey("carrier", Carrier)


def problem(status: int, detail: str) -> web.Response:
    return web.json_response({"status": status, "detail": detail}, status=status)


async def json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='{"detail": "body is not JSON"}', content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"detail": "body must be an object"}', content_type="application/json")
    return body


@web.middleware
async def shop_call_behaviour(request: web.Request, handler):
    """Slow, 5xx or unreachable for the shop's calls; the control endpoints always answer."""
    carrier = request.app[CARRIER]
    if request.path.startswith("/_control") or request.path == "/health":
        return await handler(request)
    mode = carrier.config.mode
    if mode == "down":
        carrier.refused_calls += 1
        request.transport.abort()  # the connection drops without an answer, as a dead host's would
        raise web.HTTPServiceUnavailable()
    if mode == "error":
        carrier.refused_calls += 1
        return problem(503, "carrier temporarily unavailable (simulated)")
    response = await handler(request)
    if mode == "slow":
        # the work is done, only the answer is late: a client that times out has lost an answer,
        # not a request (the case idempotency keys exist for)
        await asyncio.sleep(carrier.config.slow_seconds)
    return response


async def create_shipment(request: web.Request) -> web.Response:
    carrier = request.app[CARRIER]
    body = await json_body(request)
    key, address, lines = body.get("shipmentKey"), body.get("address"), body.get("lines", [])
    if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX:
        return problem(422, f"shipmentKey must be a string of 1 to {KEY_MAX} characters")
    if not isinstance(address, dict) or not address.get("line1") or not address.get("country"):
        return problem(422, "address with at least line1 and country is required")
    if not isinstance(lines, list):
        return problem(422, "lines must be a list")
    shipment, created = carrier.accept(key, address, lines)
    return web.json_response({"trackingNumber": shipment.tracking_number, "shipmentKey": key,
                              "status": shipment.status}, status=201 if created else 200)


async def cancel_shipment(request: web.Request) -> web.Response:
    outcome, shipment = request.app[CARRIER].cancel(request.match_info["key"])
    if outcome == "too_late":
        return web.json_response({"outcome": outcome, "status": shipment.status}, status=409)
    return web.json_response({"outcome": outcome, "status": "CANCELLED"})


async def get_shipment(request: web.Request) -> web.Response:
    shipment = request.app[CARRIER].by_tracking.get(request.match_info["tracking"])
    if shipment is None:
        return problem(404, "no such shipment")
    return web.json_response(shipment.record())


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


# --- control (tests and operators) -----------------------------------------------------------------

def _shipment_or_404(request: web.Request) -> Shipment:
    carrier = request.app[CARRIER]
    ref = request.match_info["ref"]
    shipment = carrier.by_tracking.get(ref) or carrier.by_key.get(ref)
    if shipment is None:
        raise web.HTTPNotFound(text='{"detail": "no such shipment"}', content_type="application/json")
    return shipment


async def control_state(request: web.Request) -> web.Response:
    carrier = request.app[CARRIER]
    return web.json_response({"config": carrier.config.public(), "refusedCalls": carrier.refused_calls,
                              "cancelledUnknownKeys": sorted(carrier.cancelled_keys),
                              "webhooksInFlight": len(carrier.webhook_tasks),
                              "shipments": [s.record() for s in carrier.by_key.values()]})


async def control_shipment(request: web.Request) -> web.Response:
    return web.json_response(_shipment_or_404(request).record())


def apply_config(config: Config, body: dict) -> str | None:
    """Apply ``{"mode"?, "slowSeconds"?, "stepSeconds"?, "autoAdvance"?, "webhookRetryBaseSeconds"?,
    "webhookRetryMaxSeconds"?, "webhookMaxAttempts"?, "webhookBatchMax"?, "webhookBatchWaitSeconds"?}``;
    returns what is wrong, or None. Nothing changes when anything is wrong."""
    changes: dict = {}
    if "mode" in body:
        if body["mode"] not in MODES:
            return f"mode must be one of {', '.join(MODES)}"
        changes["mode"] = body["mode"]
    numbers = {"slowSeconds": "slow_seconds", "stepSeconds": "step_seconds",
               "webhookRetryBaseSeconds": "webhook_retry_base_seconds",
               "webhookRetryMaxSeconds": "webhook_retry_max_seconds"}
    for name, attribute in numbers.items():
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                return f"{name} must be a number >= 0"
            changes[attribute] = float(value)
    if "webhookMaxAttempts" in body:
        value = body["webhookMaxAttempts"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return "webhookMaxAttempts must be an integer >= 1"
        changes["webhook_max_attempts"] = value
    if "webhookBatchMax" in body:
        value = body["webhookBatchMax"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 500:
            return "webhookBatchMax must be an integer from 1 to 500"
        changes["webhook_batch_max"] = value
    if "webhookBatchWaitSeconds" in body:
        value = body["webhookBatchWaitSeconds"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 5:
            return "webhookBatchWaitSeconds must be a number from 0 to 5"
        changes["webhook_batch_wait_seconds"] = float(value)
    if "autoAdvance" in body:
        if not isinstance(body["autoAdvance"], bool):
            return "autoAdvance must be true or false"
        changes["auto_advance"] = body["autoAdvance"]
    for attribute, value in changes.items():
        setattr(config, attribute, value)
    return None


async def control_config(request: web.Request) -> web.Response:
    """Change how the carrier behaves from now on (see ``apply_config``)."""
    config = request.app[CARRIER].config
    error = apply_config(config, await json_body(request))
    if error:
        return problem(422, error)
    return web.json_response(config.public())


async def control_reset(request: web.Request) -> web.Response:
    """Forget every shipment and notification, back to mode ``normal``; an optional body is
    applied as by ``/_control/config``."""
    carrier = request.app[CARRIER]
    body = await json_body(request) if request.body_exists else {}
    carrier.reset()
    carrier.config.mode = "normal"
    error = apply_config(carrier.config, body)
    if error:
        return problem(422, error)
    return web.json_response(carrier.config.public())


async def control_advance(request: web.Request) -> web.Response:
    shipment = _shipment_or_404(request)
    notification = request.app[CARRIER].advance(shipment)
    if notification is None:
        return problem(409, f"shipment is {shipment.status}: no step left")
    return web.json_response(notification.record())


async def control_fail(request: web.Request) -> web.Response:
    shipment = _shipment_or_404(request)
    if shipment.status in ("DELIVERED", "CANCELLED", "FAILED"):
        return problem(409, f"shipment is {shipment.status}")
    body = await json_body(request) if request.body_exists else {}
    reason = str(body.get("reason") or "LOST_IN_TRANSIT")[:200]
    return web.json_response(request.app[CARRIER].fail(shipment, reason).record())


async def control_notify(request: web.Request) -> web.Response:
    """Send a new notification with any status (e.g. SHIPPED again after DELIVERED); the
    shipment's own status does not change."""
    shipment = _shipment_or_404(request)
    body = await json_body(request)
    status = body.get("status")
    if status not in NOTIFIABLE:
        return problem(422, f"status must be one of {', '.join(NOTIFIABLE)}")
    notification = request.app[CARRIER].notify(shipment, status, str(body.get("reason") or "")[:200])
    return web.json_response(notification.record())


async def control_resend(request: web.Request) -> web.Response:
    """Send an earlier notification again: same event id, same body, same signature."""
    carrier = request.app[CARRIER]
    notification = carrier.notifications.get(request.match_info["event_id"])
    if notification is None:
        return problem(404, "no such notification")
    carrier.send(notification)
    return web.json_response(notification.record())


def make_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[shop_call_behaviour], client_max_size=64 * 1024)
    carrier = Carrier(config)
    app[CARRIER] = carrier
    app.on_startup.append(carrier.start)
    app.on_cleanup.append(carrier.stop)
    app.add_routes([
        web.get("/health", health),
        web.post("/shipments", create_shipment),
        web.get("/shipments/{tracking}", get_shipment),
        web.post("/shipments/{key}/cancel", cancel_shipment),
        web.get("/_control/state", control_state),
        web.post("/_control/config", control_config),
        web.post("/_control/reset", control_reset),
        web.get("/_control/shipments/{ref}", control_shipment),
        web.post("/_control/shipments/{ref}/advance", control_advance),
        web.post("/_control/shipments/{ref}/fail", control_fail),
        web.post("/_control/shipments/{ref}/notify", control_notify),
        web.post("/_control/notifications/{event_id}/resend", control_resend),
    ])
    return app


def main(argv: list[str] | None = None) -> None:
    shop_port = os.environ.get("SHOP_PORT") or "8000"
    parser = argparse.ArgumentParser(description="Carrier simulator (see simulators/README.md).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CARRIER_PORT", "58102")))
    parser.add_argument("--webhook-url", default=os.environ.get(
        "CARRIER_WEBHOOK_URL", f"http://127.0.0.1:{shop_port}/delivery/carrier-webhook"))
    parser.add_argument("--secret", default=os.environ.get("CARRIER_WEBHOOK_SECRET", LOCAL_ONLY_SECRET))
    parser.add_argument("--step-seconds", type=float, default=float(os.environ.get("CARRIER_STEP_SECONDS", "5")))
    parser.add_argument("--webhook-retry-base-seconds", type=float, default=1.0)
    parser.add_argument("--webhook-max-attempts", type=int, default=10)
    parser.add_argument("--webhook-batch-max", type=int, choices=range(1, 501), metavar="1..500", default=1,
                        help="up to this many notifications in one webhook (1: each on its own)")
    parser.add_argument("--webhook-batch-wait-seconds", type=float, default=0.05,
                        help="how long a batch waits for more notifications")
    parser.add_argument("--manual", action="store_true", help="no clock: shipments move only on /advance")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = Config(webhook_url=args.webhook_url, secret=args.secret, step_seconds=args.step_seconds,
                        auto_advance=not args.manual, webhook_retry_base_seconds=args.webhook_retry_base_seconds,
                        webhook_max_attempts=args.webhook_max_attempts, webhook_batch_max=args.webhook_batch_max,
                        webhook_batch_wait_seconds=args.webhook_batch_wait_seconds)
    except ValueError as exc:
        parser.error(f"--webhook-url: {exc}")
    log.info("carrier: listening on %s:%s, webhooks to %s", args.host, args.port, args.webhook_url)
    with contextlib.suppress(KeyboardInterrupt):
        web.run_app(make_app(config), host=args.host, port=args.port, access_log=None, print=None,
                    loop=_event_loop())


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (``make up`` installs it with the dev tools):
    under the order benchmark the simulator shares the shop's two cores, and every webhook is a
    new connection, which costs uvloop a fraction of asyncio's own CPU. asyncio's loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


if __name__ == "__main__":
    main()
