"""The carrier adapter: the only code that knows how the carrier speaks.

``Carrier`` is the interface the delivery context uses; ``HttpCarrier`` talks to the local
simulator's API (simulators/carrier.py) over HTTP with urllib3 and bounded timeouts. A real carrier
is another class with the same methods, named by ``DELIVERY["CARRIER_ADAPTER"]``.

Outbound calls (book, cancel) raise ``CarrierUnavailable`` when trying again later may help
(connection refused, timeout, 5xx, 429) and ``CarrierRejected`` when it will not (4xx). Inbound
webhooks are checked and parsed by ``parse_webhook``: ``BadSignature`` when the HMAC does not
match, ``BadNotification`` when the body is not what the carrier sends. A webhook carries one
notification, or a batch of them (``{"events": [...]}``), which the simulator sends under load.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

import urllib3
from django.conf import settings
from django.utils.module_loading import import_string

SIGNATURE_HEADER = "X-Carrier-Signature"
CARRIER_STATUSES = ("SHIPPED", "IN_TRANSIT", "DELIVERED", "FAILED")
EVENT_ID_MAX = 100
BATCH_MAX = 500  # notifications in one webhook


class CarrierUnavailable(Exception):
    """The carrier could not be reached or answered with a temporary error: try again later."""


class CarrierRejected(Exception):
    """The carrier refused the request for good (e.g. an address it cannot serve)."""


class BadSignature(Exception):
    """A webhook whose signature is missing or wrong: not from our carrier, or altered."""


class BadNotification(Exception):
    """A correctly signed webhook whose body is not a notification we understand."""


@dataclass(frozen=True)
class Booking:
    tracking_number: str
    status: str  # the carrier's own: ACCEPTED, or CANCELLED for a key cancelled before booking


@dataclass(frozen=True)
class CarrierUpdate:
    """One notification from the carrier, parsed."""

    event_id: str
    shipment_key: str
    tracking_number: str
    status: str  # one of CARRIER_STATUSES
    occurred_at: datetime | None
    reason: str


# A webhook's notification: the update, or None for one we deliberately do not act on.
Notification = CarrierUpdate | None


@dataclass(frozen=True)
class NotificationBatch:
    """A webhook carrying several notifications (``{"events": [...]}``), each read on its own: one
    the adapter refuses is its ``BadNotification`` and does not spoil the others."""

    items: list[Notification | BadNotification]
    event_ids: list[str]  # as sent, "" where there is none, to name each item in the answer


class Carrier(Protocol):
    def book_shipment(self, *, shipment_key: str, address: Mapping, lines: list[dict]) -> Booking: ...

    def cancel_shipment(self, *, shipment_key: str) -> bool:
        """True when cancelled (or never booked); False when too late (already on its way)."""

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> Notification | NotificationBatch:
        """The notification (None for one we deliberately do not act on), or a batch of them."""


def _text(data: bytes, limit: int) -> str:
    return data[:limit].decode("utf-8", "replace")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HttpCarrier:
    """The simulator's HTTP API: ``POST /shipments``, ``POST /shipments/{key}/cancel``, and
    signed JSON webhooks (HMAC-SHA256 of the raw body in ``X-Carrier-Signature``)."""

    def __init__(self, *, base_url: str, webhook_secret: str, connect_timeout: float = 2.0,
                 read_timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.webhook_secret = webhook_secret
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._pool: urllib3.HTTPConnectionPool | None = None

    @property
    def pool(self) -> urllib3.HTTPConnectionPool:
        # kept-alive connections, one pool per process, made on first use so that it is never
        # shared across a fork. urllib3 rather than httpx: every order books a shipment, and httpx
        # spent twice the CPU per call (0.48 against 0.23 ms here, docs/orders.md)
        if self._pool is None:
            self._pool = urllib3.connection_from_url(self.base_url, maxsize=4, timeout=self.timeout, retries=False)
        return self._pool

    def _post(self, path: str, body: dict) -> tuple[int, bytes]:
        try:
            response = self.pool.request("POST", self.base_url + path, body=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        except urllib3.exceptions.HTTPError as exc:  # connect/read timeouts, refused, reset, dropped
            raise CarrierUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status >= 500 or response.status in (408, 429):
            raise CarrierUnavailable(f"carrier answered {response.status}")
        return response.status, response.data

    def book_shipment(self, *, shipment_key: str, address: Mapping, lines: list[dict]) -> Booking:
        status, data = self._post("/shipments", {"shipmentKey": shipment_key, "address": dict(address),
                                                 "lines": lines})
        if status not in (200, 201):
            raise CarrierRejected(f"carrier answered {status}: {_text(data, 300)}")
        try:
            body = json.loads(data)
            return Booking(tracking_number=str(body["trackingNumber"]), status=str(body.get("status", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise CarrierUnavailable(f"unreadable booking answer: {_text(data, 200)}") from exc

    def cancel_shipment(self, *, shipment_key: str) -> bool:
        status, data = self._post(f"/shipments/{shipment_key}/cancel", {})
        if status == 409:
            return False
        if status != 200:
            raise CarrierRejected(f"carrier answered {status}: {_text(data, 300)}")
        return True

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> Notification | NotificationBatch:
        sent = headers.get(SIGNATURE_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), signature(self.webhook_secret, body).encode()):
            raise BadSignature("The carrier signature is missing or does not match the body.")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadNotification("The body is not JSON.") from None
        if not isinstance(data, dict):
            raise BadNotification("The body is not a JSON object.")
        if "events" not in data:
            return _notification(data)
        events = data["events"]
        if not isinstance(events, list) or not 1 <= len(events) <= BATCH_MAX:
            raise BadNotification(f"events: a list of 1 to {BATCH_MAX} notifications.")
        items: list[Notification | BadNotification] = []
        for event in events:
            try:
                if not isinstance(event, dict):
                    raise BadNotification("Not a JSON object.")
                items.append(_notification(event))
            except BadNotification as exc:
                items.append(exc)
        return NotificationBatch(items=items, event_ids=[_event_id(event) for event in events])


def _event_id(data) -> str:
    value = data.get("eventId") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= EVENT_ID_MAX else ""


def _notification(data: dict) -> Notification:
    """One notification object of the carrier's (a webhook's body, or an item of a batch)."""
    problems = {}
    for name in ("eventId", "shipmentKey", "status"):
        value = data.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= EVENT_ID_MAX:
            problems[name] = f"Required, a string of 1 to {EVENT_ID_MAX} characters."
    if problems:
        raise BadNotification("; ".join(f"{k}: {v}" for k, v in problems.items()))
    if data["status"] == "CANCELLED":
        return None  # the carrier confirming our own cancellation: nothing to change
    if data["status"] not in CARRIER_STATUSES:
        raise BadNotification(f"status: one of {', '.join(CARRIER_STATUSES)}.")
    occurred_at = None
    if isinstance(data.get("occurredAt"), str):
        try:
            occurred_at = datetime.fromisoformat(data["occurredAt"].replace("Z", "+00:00"))
        except ValueError:
            occurred_at = None
        if occurred_at is not None and occurred_at.tzinfo is None:
            occurred_at = None
    tracking = data.get("trackingNumber")
    reason = data.get("reason")
    return CarrierUpdate(
        event_id=data["eventId"], shipment_key=data["shipmentKey"],
        tracking_number=tracking[:64] if isinstance(tracking, str) else "",
        status=data["status"], occurred_at=occurred_at,
        reason=reason[:200] if isinstance(reason, str) else "",
    )


@cache
def carrier() -> Carrier:
    """The configured carrier adapter, one per process (``reset_carrier`` after changing settings)."""
    conf = settings.DELIVERY
    adapter = import_string(conf["CARRIER_ADAPTER"])
    return adapter(base_url=conf["CARRIER_URL"], webhook_secret=conf["CARRIER_WEBHOOK_SECRET"],
                   connect_timeout=conf["CARRIER_CONNECT_TIMEOUT_SECONDS"],
                   read_timeout=conf["CARRIER_READ_TIMEOUT_SECONDS"])


def reset_carrier() -> None:
    carrier.cache_clear()
