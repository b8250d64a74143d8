"""A local payment gateway simulator (aiohttp, in memory): tokenises cards, charges tokens with
idempotency keys, refunds and reverses, and can be told to be slow, time out, fail or be down.

    python -m simulators.gateway [--port 58101]      (port also from GATEWAY_PORT)

API (what the shop's adapter calls):
  POST /v1/tokens     {"cardNumber", "expMonth", "expYear", "holderName"} -> 201 {"token", "brand", "last4"}
  POST /v1/charges    Idempotency-Key; {"token", "amount", "currency", "reference"}
                      -> 201 {"chargeId", "status": "succeeded", ...}
                      -> 402 {"status": "declined", "code": "card_declined" | "insufficient_funds"}
                      -> 402 {"status": "error", "code": "processing_error", "retryable": true}
  POST /v1/refunds    Idempotency-Key; {"chargeId"} -> 201 {"refundId", "chargeId", "amount", "status"}
  POST /v1/reversals  {"idempotencyKey"}: undo whatever the charge with that key did (refund it if
                      it succeeded) and refuse any later charge with it -> 200 {"reversed", "chargeId"}

Test cards: 4000000000000002 declined, 4000000000009995 insufficient funds, 4000000000000119
processing error (retryable); any other Luhn-valid number is approved. A charge key remembers
its first settled answer (succeeded or declined) and answers it again without charging twice;
processing errors and injected faults are not remembered, so a retry with the key tries again.

Control (never subject to faults; for tests and benchmarks):
  POST /control/faults  {"mode"?: "ok"|"timeout"|"error"|"down", "latencyMs"?: int, "times"?: int|null}
                        timeout: the call is carried out but its answer is held back (default 30 s);
                        error: 503 without doing anything; down: the connection is dropped unanswered.
                        "times": the mode applies to the next N API calls only, then "ok" again.
  Per request: header "Simulate: latency=200, fault=timeout" does the same for one call.
  GET /control/charges[?reference=...], GET /control/refunds, GET /control/stats, POST /control/reset
  GET /health

Card numbers are only used to derive the token's brand, last4 and outcome; they are never kept
or logged.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from aiohttp import web

log = logging.getLogger("simulators.gateway")

DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
TIMEOUT_HOLD_SECONDS = 30.0
MODES = ("ok", "timeout", "error", "down")


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if "51" <= number[:2] <= "55" or "2221" <= number[:4] <= "2720":
        return "mastercard"
    return "unknown"


def card_outcome(number: str) -> str:
    return {DECLINED: "card_declined", INSUFFICIENT_FUNDS: "insufficient_funds",
            PROCESSING_ERROR: "processing_error"}.get(number, "approve")


@dataclass
class Faults:
    mode: str = "ok"
    latency_ms: int = 0
    times: int | None = None  # None: until changed

    def take(self) -> tuple[str, int]:
        """The fault for the next API call (and count it down)."""
        mode = self.mode
        if self.times is not None and mode != "ok":
            self.times -= 1
            if self.times <= 0:
                self.mode, self.times = "ok", None
        return mode, self.latency_ms


@dataclass
class State:
    tokens: dict[str, dict] = field(default_factory=dict)
    charges: dict[str, dict] = field(default_factory=dict)  # chargeId -> charge
    answers: dict[str, tuple[int, dict, tuple]] = field(default_factory=dict)  # key -> (status, body, request)
    voided_keys: set[str] = field(default_factory=set)
    refunds: dict[str, dict] = field(default_factory=dict)  # refundId -> refund
    refund_answers: dict[str, tuple[int, dict]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    in_flight: int = 0
    max_in_flight: int = 0


def _parse_simulate_header(value: str) -> tuple[str | None, int | None]:
    mode = latency = None
    for part in value.split(","):
        name, _, raw = part.strip().partition("=")
        if name == "fault" and raw in MODES:
            mode = raw
        elif name == "latency" and raw.isdigit():
            latency = int(raw)
    return mode, latency


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"status": "error", "code": code, "message": message}, status=status)


async def _json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except Exception:
        raise web.HTTPBadRequest(text='{"code": "invalid_json"}', content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"code": "invalid_json"}', content_type="application/json")
    return body


def api(kind: str):
    """Wraps an API handler with the injected faults: latency, timeout, 5xx, down."""

    def wrap(handler):
        async def run(request: web.Request) -> web.StreamResponse:
            state: State = request.app["state"]
            state.calls[kind] = state.calls.get(kind, 0) + 1
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                mode, latency = state.faults.take()
                header_mode, header_latency = _parse_simulate_header(request.headers.get("Simulate", ""))
                mode = header_mode or mode
                latency = header_latency if header_latency is not None else latency
                if latency:
                    await asyncio.sleep(latency / 1000)
                if mode == "down":
                    # the connection drops without an answer; nothing was done
                    request.transport.close()
                    return web.Response(status=503)  # never reaches the caller
                if mode == "error":
                    return _error(503, "unavailable", "Simulated gateway error.")
                response = await handler(request, state)
                if mode == "timeout":
                    # done, but the caller does not hear about it in time
                    await asyncio.sleep(request.app["timeout_hold"])
                return response
            finally:
                state.in_flight -= 1

        return run

    return wrap


@api("tokens")
async def create_token(request: web.Request, state: State) -> web.Response:
    body = await _json(request)
    number = str(body.get("cardNumber", "")).replace(" ", "").replace("-", "")
    if not luhn_valid(number):
        return _error(400, "invalid_card_number", "The card number is not valid.")
    try:
        month, year = int(body.get("expMonth")), int(body.get("expYear"))
    except (TypeError, ValueError):
        return _error(400, "invalid_expiry", "expMonth and expYear must be numbers.")
    now = time.gmtime()
    if not 1 <= month <= 12 or (year, month) < (now.tm_year, now.tm_mon):
        return _error(400, "expired_card", "The card has expired.")
    token = "tok_" + secrets.token_urlsafe(18)
    state.tokens[token] = {"brand": card_brand(number), "last4": number[-4:], "outcome": card_outcome(number)}
    return web.json_response({"token": token, "brand": state.tokens[token]["brand"],
                              "last4": number[-4:]}, status=201)


def _amount(value) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount > 0 else None


@api("charges")
async def create_charge(request: web.Request, state: State) -> web.Response:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return _error(400, "missing_idempotency_key", "Idempotency-Key is required.")
    body = await _json(request)
    token, amount = str(body.get("token", "")), _amount(body.get("amount"))
    currency, reference = str(body.get("currency", "")), str(body.get("reference", ""))
    if amount is None or not currency:
        return _error(400, "invalid_amount", "A positive amount and a currency are required.")
    fingerprint = (token, str(amount), currency, reference)
    if key in state.voided_keys:
        return web.json_response({"status": "voided", "code": "reversed",
                                  "message": "This key was reversed; nothing was charged."}, status=409)
    earlier = state.answers.get(key)
    if earlier is not None:
        status, answer, first = earlier
        if first != fingerprint:
            return _error(409, "idempotency_mismatch", "This Idempotency-Key was used with other parameters.")
        return web.json_response(answer, status=status)
    card = state.tokens.get(token)
    if card is None:
        return _error(400, "invalid_token", "No such token.")
    if card["outcome"] == "processing_error":
        return web.json_response({"status": "error", "code": "processing_error", "retryable": True,
                                  "message": "The card could not be processed; try again."}, status=402)
    charge_id = "ch_" + secrets.token_urlsafe(12)
    succeeded = card["outcome"] == "approve"
    charge = {"chargeId": charge_id, "idempotencyKey": key, "reference": reference, "amount": str(amount),
              "currency": currency, "brand": card["brand"], "last4": card["last4"],
              "status": "succeeded" if succeeded else "declined", "refunded": False,
              "createdAt": time.time()}
    state.charges[charge_id] = charge
    if succeeded:
        answer, status = {"chargeId": charge_id, "status": "succeeded", "amount": str(amount),
                          "currency": currency}, 201
    else:
        answer, status = {"chargeId": charge_id, "status": "declined", "code": card["outcome"]}, 402
    state.answers[key] = (status, answer, fingerprint)
    return web.json_response(answer, status=status)


def _refund(state: State, charge: dict) -> dict:
    for refund in state.refunds.values():
        if refund["chargeId"] == charge["chargeId"]:
            return refund
    refund = {"refundId": "re_" + secrets.token_urlsafe(12), "chargeId": charge["chargeId"],
              "reference": charge["reference"], "amount": charge["amount"], "currency": charge["currency"],
              "status": "succeeded", "createdAt": time.time()}
    state.refunds[refund["refundId"]] = refund
    charge["refunded"] = True
    return refund


@api("refunds")
async def create_refund(request: web.Request, state: State) -> web.Response:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return _error(400, "missing_idempotency_key", "Idempotency-Key is required.")
    body = await _json(request)
    if key in state.refund_answers:
        status, answer = state.refund_answers[key]
        return web.json_response(answer, status=status)
    charge = state.charges.get(str(body.get("chargeId", "")))
    if charge is None:
        return _error(404, "no_such_charge", "No such charge.")
    if charge["status"] != "succeeded":
        return _error(409, "not_refundable", "Only a succeeded charge can be refunded.")
    refund = _refund(state, charge)
    answer = {key_: refund[key_] for key_ in ("refundId", "chargeId", "amount", "currency", "status")}
    state.refund_answers[key] = (201, answer)
    return web.json_response(answer, status=201)


@api("reversals")
async def create_reversal(request: web.Request, state: State) -> web.Response:
    body = await _json(request)
    key = str(body.get("idempotencyKey", ""))
    if not key:
        return _error(400, "missing_idempotency_key", "idempotencyKey is required.")
    state.voided_keys.add(key)
    earlier = state.answers.get(key)
    charge = state.charges.get(earlier[1].get("chargeId")) if earlier else None
    if charge is not None and charge["status"] == "succeeded":
        _refund(state, charge)
        return web.json_response({"reversed": True, "chargeId": charge["chargeId"]})
    return web.json_response({"reversed": False, "chargeId": None})


async def control_faults(request: web.Request) -> web.Response:
    state: State = request.app["state"]
    body = await _json(request)
    mode, latency, times = body.get("mode", state.faults.mode), body.get("latencyMs"), body.get("times")
    if mode not in MODES:
        return _error(400, "invalid_mode", f"mode must be one of {', '.join(MODES)}.")
    if latency is not None and (not isinstance(latency, int) or latency < 0):
        return _error(400, "invalid_latency", "latencyMs must be a non-negative integer.")
    if times is not None and (not isinstance(times, int) or times < 1):
        return _error(400, "invalid_times", "times must be a positive integer or null.")
    state.faults.mode, state.faults.times = mode, times
    if latency is not None:
        state.faults.latency_ms = latency
    log.info("faults: mode=%s latency=%sms times=%s", mode, state.faults.latency_ms, times)
    return web.json_response(_faults_json(state))


def _faults_json(state: State) -> dict:
    return {"mode": state.faults.mode, "latencyMs": state.faults.latency_ms, "times": state.faults.times}


async def control_charges(request: web.Request) -> web.Response:
    state: State = request.app["state"]
    reference = request.query.get("reference")
    charges = [c for c in state.charges.values() if reference is None or c["reference"] == reference]
    return web.json_response({"charges": charges})


async def control_refunds(request: web.Request) -> web.Response:
    return web.json_response({"refunds": list(request.app["state"].refunds.values())})


async def control_stats(request: web.Request) -> web.Response:
    state: State = request.app["state"]
    charges = list(state.charges.values())
    return web.json_response({
        "calls": state.calls, "inFlight": state.in_flight, "maxInFlight": state.max_in_flight,
        "charges": {"succeeded": sum(c["status"] == "succeeded" for c in charges),
                    "declined": sum(c["status"] == "declined" for c in charges)},
        "refunds": len(state.refunds), "reversedKeys": len(state.voided_keys), "faults": _faults_json(state),
    })


async def control_reset(request: web.Request) -> web.Response:
    request.app["state"] = State()
    return web.json_response({"reset": True})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app(*, timeout_hold: float = TIMEOUT_HOLD_SECONDS) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app["state"] = State()
    app["timeout_hold"] = timeout_hold
    app.add_routes([
        web.post("/v1/tokens", create_token),
        web.post("/v1/charges", create_charge),
        web.post("/v1/refunds", create_refund),
        web.post("/v1/reversals", create_reversal),
        web.post("/control/faults", control_faults),
        web.get("/control/charges", control_charges),
        web.get("/control/refunds", control_refunds),
        web.get("/control/stats", control_stats),
        web.post("/control/reset", control_reset),
        web.get("/health", health),
    ])
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "58101")))
    parser.add_argument("--timeout-hold", type=float, default=TIMEOUT_HOLD_SECONDS,
                        help="seconds a 'timeout' fault holds its answer back")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log.info("payment gateway simulator on http://%s:%d", args.host, args.port)
    # no access log: request lines carry no card data, but there is no need for 1,000 lines a second
    web.run_app(make_app(timeout_hold=args.timeout_hold), host=args.host, port=args.port, access_log=None,
                print=None, backlog=2048)


if __name__ == "__main__":
    main()
