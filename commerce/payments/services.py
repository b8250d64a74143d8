"""Payments use cases that write. Each is one short transaction; none calls the gateway inside a
transaction (tokenising happens before the method is stored; charges, refunds and reversals
are made by ``processor.py`` between the transactions of ``payments_claim`` and
``payment_results_record``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce.eventbus import publish, publish_many
from commerce.eventbus.event import DomainEvent
from commerce.orders.events import OrderPaymentRequested, OrderRefundRequested
from commerce.payments import cards
from commerce.payments.events import PaymentApproved, PaymentDeclined, PaymentFailed, PaymentRefunded
from commerce.payments.gateway import (
    CardRejected,
    ChargeResult,
    GatewayUnavailable,
    Outcome,
    RefundResult,
    ReversalResult,
    payment_gateway,
)
from commerce.payments.models import Payment, PaymentIdempotencyKey, PaymentMethod, PaymentRequest
from commerce.shared.bulk import bulk_insert
from commerce.shared.commits import commit_without_flush
from commerce.shared.errors import Conflict, NotFound, Unavailable, ValidationFailed

log = logging.getLogger(__name__)

# failure reasons of PaymentFailed
PROCESSING_ERROR = "PROCESSING_ERROR"
GATEWAY_UNAVAILABLE = "GATEWAY_UNAVAILABLE"
CANCELLED = "CANCELLED"
METHOD_UNUSABLE = "PAYMENT_METHOD_UNUSABLE"


def conf(key: str):
    return settings.PAYMENTS[key]


# --- payment methods ---------------------------------------------------------------------------


def method_add(*, member_id: UUID, card_number: str, exp_month: int, exp_year: int,
               holder_name: str) -> PaymentMethod:
    """Tokenise the card at the gateway (outside any transaction), then store the token. The
    card number is checked (Luhn, expiry) by the caller and is never stored or logged."""
    try:
        token = payment_gateway().tokenize(number=card_number, exp_month=exp_month, exp_year=exp_year,
                                           holder_name=holder_name)
    except CardRejected as exc:
        raise ValidationFailed({"cardNumber": [str(exc)]}) from None
    except GatewayUnavailable:
        raise Unavailable("The payment gateway is not answering; try again shortly.") from None
    def create(is_default: bool) -> PaymentMethod:
        with transaction.atomic():
            return PaymentMethod.objects.create(
                member_id=member_id, type="card", gateway_token=token.token, brand=token.brand, last4=token.last4,
                exp_month=exp_month, exp_year=exp_year, holder_name=holder_name, is_default=is_default)

    # the member's first method becomes the default
    if PaymentMethod.objects.filter(member_id=member_id, is_default=True).exists():
        return create(False)
    try:
        return create(True)
    except IntegrityError:  # another first method won the default (one default per member)
        return create(False)


def method_update(*, member_id: UUID, method_id: UUID, changes: dict) -> PaymentMethod:
    """Change expiry, holder name, default or active; another member's method is a 404."""
    try:
        return _method_update(member_id=member_id, method_id=method_id, changes=changes)
    except IntegrityError:  # two methods made default at the same moment: one of them lost
        raise Conflict("Another payment method was made the default at the same time; try again.") from None


def _method_update(*, member_id: UUID, method_id: UUID, changes: dict) -> PaymentMethod:
    with transaction.atomic():
        method = PaymentMethod.objects.select_for_update().filter(id=method_id, member_id=member_id).first()
        if method is None:
            raise NotFound("No such payment method.")
        exp_month = changes.get("exp_month", method.exp_month)
        exp_year = changes.get("exp_year", method.exp_year)
        if ("exp_month" in changes or "exp_year" in changes) and cards.is_expired(exp_month, exp_year):
            raise ValidationFailed({"expYear": ["The card has expired."]})
        method.exp_month, method.exp_year = exp_month, exp_year
        method.holder_name = changes.get("holder_name", method.holder_name)
        method.active = changes.get("active", method.active)
        if changes.get("is_default") is True:
            PaymentMethod.objects.filter(member_id=member_id, is_default=True).exclude(id=method.id).update(
                is_default=False, updated_at=timezone.now())
            method.is_default = True
        elif changes.get("is_default") is False:
            method.is_default = False
        method.updated_at = timezone.now()
        method.save()
        return method


def _usable_method(member_id: UUID, method_id: UUID) -> PaymentMethod | None:
    method = PaymentMethod.objects.filter(id=method_id, member_id=member_id, active=True).first()
    if method is None or cards.is_expired(method.exp_month, method.exp_year):
        return None
    return method


# --- payments: requests, process-payment, refunds ---------------------------------------------


def _new_payment(request: PaymentRequest, *, attempt: int, method_id: UUID) -> Payment:
    now = timezone.now()
    return Payment(
        order_id=request.order_id, attempt=attempt, buyer_id=request.buyer_id, method_id=method_id,
        amount=request.amount, currency=request.currency, status=Payment.PENDING, action=Payment.CHARGE,
        due_at=now, deadline_at=now + timedelta(seconds=conf("DEADLINE_SECONDS")),
    )


def _failed(payment: Payment, reason: str, *, action: str = Payment.NONE) -> PaymentFailed:
    payment.status, payment.failure_reason, payment.action = Payment.FAILED, reason, action
    payment.due_at = timezone.now() if action else None
    payment.version += 1
    payment.updated_at = timezone.now()
    return PaymentFailed(aggregate_id=str(payment.id), aggregate_version=payment.version,
                         order_id=str(payment.order_id), buyer_id=str(payment.buyer_id), reason=reason)


def payment_request_record(event: OrderPaymentRequested) -> Payment | None:
    """Orders asks for a payment: record the request and a PENDING payment (the processor charges
    it later, outside this transaction). A repeated or older request is a no-op; a newer request
    for an order whose latest payment was declined or failed starts a new attempt."""
    order_id, version = UUID(event.aggregate_id), event.aggregate_version
    request, created = PaymentRequest.objects.select_for_update().get_or_create(order_id=order_id, defaults=dict(
        buyer_id=UUID(event.buyer_id), method_id=UUID(event.payment_method_id), amount=Decimal(event.amount),
        currency=event.currency, request_version=version))
    if not created:
        latest = Payment.objects.filter(order_id=order_id).order_by("-attempt").first()
        if version <= request.request_version or request.closed or (
                latest is not None and latest.status not in (Payment.DECLINED, Payment.FAILED)):
            return None
        request.method_id, request.amount, request.currency = (
            UUID(event.payment_method_id), Decimal(event.amount), event.currency)
        request.request_version = version
        request.save(update_fields=["method_id", "amount", "currency", "request_version"])
        attempt = latest.attempt + 1 if latest else 1
    else:
        attempt = 1
    payment = _new_payment(request, attempt=attempt, method_id=request.method_id)
    if _usable_method(request.buyer_id, request.method_id) is None:
        event_out = _failed(payment, METHOD_UNUSABLE)
        payment.save(force_insert=True)
        publish(event_out)
        return payment
    payment.save(force_insert=True)
    return payment


# NOTIFY channel: "gateway calls became due"; the processors LISTEN on it (processor.py)
WAKE_CHANNEL = "payments_due"


def processors_wake() -> None:
    """Wake the listening processors when the caller's transaction commits (PostgreSQL delivers
    a NOTIFY at commit, and not at all on rollback), so that a new payment is claimed at once
    instead of at the processors' next poll. Several calls in one transaction send one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [WAKE_CHANNEL])


def order_payment_events_apply(events: list) -> None:
    """The handler's batch, in publish order, in the caller's transaction. Runs of requests for
    orders payments has not seen yet are recorded with a few statements for the whole run (one
    request at a time cost about 4 ms); anything else goes through the one-event rules. The
    processors are woken for whatever calls the batch made due."""
    run: list[OrderPaymentRequested] = []
    for event in events:
        if isinstance(event, OrderPaymentRequested):
            event = _well_formed(event)
            if event is None:
                continue
            if any(e.aggregate_id == event.aggregate_id for e in run):
                _record_new_requests(run)
                run = []
            run.append(event)
            continue
        _record_new_requests(run)
        run = []
        refund_request(event)
    _record_new_requests(run)
    if events:
        processors_wake()


_NO_METHOD = "00000000-0000-0000-0000-000000000000"  # never a saved method: the payment fails unusable


def _well_formed(event: OrderPaymentRequested) -> OrderPaymentRequested | None:
    """A request whose ids are not UUIDs (orders validates them, so only a bug sends one) must not
    make the handler raise until its batch is dead-lettered: a bad method id becomes a payment that
    fails as unusable (so the order fails and releases its stock); without a valid order or buyer
    id there is nobody to answer, so it is logged and dropped."""
    try:
        UUID(event.aggregate_id), UUID(event.buyer_id)
    except (TypeError, ValueError):
        log.error("payments: payment request %s with malformed order or buyer id dropped", event.event_id)
        return None
    try:
        UUID(event.payment_method_id)
    except (TypeError, ValueError):
        return replace(event, payment_method_id=_NO_METHOD)
    return event


_INSERT_REQUESTS = """
INSERT INTO payments_request (order_id, buyer_id, method_id, amount, currency, request_version, closed, created_at)
SELECT u.*, false, now()
FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::numeric[], %s::text[], %s::bigint[]) AS u
ON CONFLICT (order_id) DO NOTHING RETURNING order_id
"""


def _record_new_requests(events: list[OrderPaymentRequested]) -> None:
    if not events:
        return
    if len(events) == 1:
        payment_request_record(events[0])
        return
    rows = [(UUID(e.aggregate_id), UUID(e.buyer_id), UUID(e.payment_method_id), Decimal(e.amount), e.currency,
             e.aggregate_version) for e in events]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_REQUESTS, [list(column) for column in zip(*rows, strict=True)])
        fresh = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT id, member_id, active, exp_month, exp_year FROM payments_method WHERE id = ANY(%s)",
                       [list({row[2] for row in rows})])
        methods = {mid: (member, active and not cards.is_expired(month, year))
                   for mid, member, active, month, year in cursor.fetchall()}
    payments, failures = [], []
    for event, (order_id, buyer_id, method_id, amount, currency, version) in zip(events, rows, strict=True):
        if order_id not in fresh:
            payment_request_record(event)  # seen before: the one-event rules decide
            continue
        request = PaymentRequest(order_id=order_id, buyer_id=buyer_id, method_id=method_id, amount=amount,
                                 currency=currency, request_version=version)
        payment = _new_payment(request, attempt=1, method_id=method_id)
        if methods.get(method_id, (None, False)) != (buyer_id, True):
            failures.append(_failed(payment, METHOD_UNUSABLE))
        payments.append(payment)
    now = timezone.now()
    for payment in payments:  # one statement for all: every row sets the same columns
        payment.created_at = payment.updated_at = now
    bulk_insert(payments)
    publish_many(failures)


@dataclass(frozen=True)
class ProcessAnswer:
    payment_id: UUID
    status: str

    def as_json(self) -> dict:
        return {"paymentId": str(self.payment_id), "status": self.status}


def _body_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _earlier_answer(member_id: UUID, key: str, body_hash: str) -> ProcessAnswer | None:
    earlier = PaymentIdempotencyKey.objects.filter(member_id=member_id, key=key).first()
    if earlier is None:
        return None
    if earlier.body_hash != body_hash:
        raise Conflict("This Idempotency-Key was used with a different request body.")
    return ProcessAnswer(UUID(earlier.response["paymentId"]), earlier.response["status"])


def payment_process(*, buyer_id: UUID, order_id: UUID, method_id: UUID,
                    idempotency_key: str | None = None) -> ProcessAnswer:
    """POST /payment/process-payment: pay (or pay again) an order this buyer was asked to pay.

    No request for the order from this buyer: 404. Latest payment PENDING, APPROVED or REFUNDED:
    that payment, no second charge. Latest DECLINED or FAILED: a new PENDING attempt with
    ``method_id``, which must be the buyer's usable method (else 400)."""
    body_hash = _body_hash({"orderId": str(order_id), "methodId": str(method_id)})
    if idempotency_key:
        earlier = _earlier_answer(buyer_id, idempotency_key, body_hash)
        if earlier is not None:
            return earlier
    try:
        with transaction.atomic():
            request = PaymentRequest.objects.select_for_update().filter(order_id=order_id, buyer_id=buyer_id).first()
            if request is None:
                raise NotFound("No payment was requested for this order.")
            latest = Payment.objects.filter(order_id=order_id).order_by("-attempt").first()
            if latest is not None and latest.status not in (Payment.DECLINED, Payment.FAILED):
                answer = ProcessAnswer(latest.id, latest.status)
            else:
                if request.closed:
                    raise Conflict("This order no longer awaits payment.")
                if _usable_method(buyer_id, method_id) is None:
                    raise ValidationFailed({"methodId": ["Not one of your active, unexpired payment methods."]})
                payment = _new_payment(request, attempt=latest.attempt + 1 if latest else 1, method_id=method_id)
                payment.save(force_insert=True)
                processors_wake()
                answer = ProcessAnswer(payment.id, payment.status)
            if idempotency_key:
                PaymentIdempotencyKey.objects.create(member_id=buyer_id, key=idempotency_key, body_hash=body_hash,
                                                     response=answer.as_json())
    except IntegrityError:
        # the same key raced by a request that committed first: answer like a repeat
        earlier = _earlier_answer(buyer_id, idempotency_key, body_hash) if idempotency_key else None
        if earlier is None:
            raise
        return earlier
    return answer


def refund_request(event: OrderRefundRequested) -> None:
    """Orders wants the money of a payment back. APPROVED: a refund is owed (the processor makes
    it). PENDING and never sent to the gateway: cancelled at once. PENDING with calls made:
    cancelled and reversed (or, if a call is in flight, refunded once it is approved). Declined,
    failed or refunded payments hold no money: nothing to do."""
    try:
        payment_id, order_id = UUID(event.payment_id), UUID(event.aggregate_id)
    except ValueError:
        log.warning("payments: refund requested for a malformed payment id; ignored")
        return
    payment = Payment.objects.select_for_update().filter(id=payment_id, order_id=order_id).first()
    PaymentRequest.objects.filter(order_id=order_id).update(closed=True)
    if payment is None:
        log.warning("payments: refund requested for unknown payment %s of order %s; ignored", payment_id, order_id)
        return
    now = timezone.now()
    if payment.status == Payment.APPROVED:
        if payment.action != Payment.REFUND:
            Payment.objects.filter(id=payment.id).update(action=Payment.REFUND, due_at=now, updated_at=now)
    elif payment.status == Payment.PENDING:
        leased = payment.lease_until is not None and payment.lease_until > now
        if leased:  # a call is in flight: its result decides (payment_results_record)
            Payment.objects.filter(id=payment.id).update(cancel_requested=True, updated_at=now)
        else:
            failed = _failed(payment, CANCELLED, action=Payment.REVERSE if payment.calls else Payment.NONE)
            payment.cancel_requested, payment.lease_until, payment.lease_token = True, None, None
            payment.save()
            publish(failed)


# --- the processor's transactions --------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    """A gateway call owed for one payment, claimed under ``lease_token``."""

    payment_id: UUID
    action: str
    token: str
    amount: Decimal
    currency: str
    order_id: UUID
    charge_id: str
    lease_token: UUID

    @property
    def idempotency_key(self) -> str:
        return f"payment-{self.payment_id}"

    @property
    def refund_key(self) -> str:
        return f"refund-{self.payment_id}"


_CLAIM = """
WITH due AS (
    SELECT id FROM payments_payment
    WHERE action <> '' AND due_at <= now() AND (lease_until IS NULL OR lease_until < now())
      AND NOT (action = 'charge' AND (deadline_at <= now() OR cancel_requested))
    ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED
)
UPDATE payments_payment p SET lease_until = now() + make_interval(secs => %s), lease_token = %s,
    calls = p.calls + 1
FROM due WHERE p.id = due.id
RETURNING p.id, p.action, p.method_id, p.amount, p.currency, p.order_id, p.charge_id
"""


def payments_claim(limit: int) -> list[WorkItem]:
    """Claim up to ``limit`` due gateway calls (SKIP LOCKED: processors never wait for each
    other) for ``LEASE_SECONDS``; commits before any call is made."""
    if limit <= 0:
        return []
    lease_token = uuid.uuid4()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM, [limit, conf("LEASE_SECONDS"), lease_token])
        rows = cursor.fetchall()
        if not rows:
            return []
        cursor.execute("SELECT id, gateway_token FROM payments_method WHERE id = ANY(%s)",
                       [list({row[2] for row in rows})])
        tokens = dict(cursor.fetchall())
    return [WorkItem(payment_id=pid, action=action, token=tokens.get(method_id, ""), amount=amount,
                     currency=currency, order_id=order_id, charge_id=charge_id, lease_token=lease_token)
            for pid, action, method_id, amount, currency, order_id, charge_id in rows]


def _backoff(streak: int) -> timedelta:
    seconds = min(conf("RETRY_BASE_SECONDS") * 2 ** max(streak - 1, 0), conf("RETRY_MAX_SECONDS"))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def _retry_later(payment: Payment, now, detail: str) -> None:
    payment.unavailable_streak += 1
    payment.due_at = now + _backoff(payment.unavailable_streak)
    payment.last_error = detail[:300]


def _apply_charge(payment: Payment, result: ChargeResult, now) -> DomainEvent | None:
    event_ids = dict(aggregate_id=str(payment.id), order_id=str(payment.order_id), buyer_id=str(payment.buyer_id))
    if result.outcome is Outcome.APPROVED:
        payment.status, payment.charge_id = Payment.APPROVED, result.charge_id
        # approved after a refund was asked for: give the money back at once
        payment.action = Payment.REFUND if payment.cancel_requested else Payment.NONE
        payment.due_at = now if payment.cancel_requested else None
        payment.version += 1
        return PaymentApproved(**event_ids, aggregate_version=payment.version, amount=payment.amount,
                               currency=payment.currency)
    if result.outcome is Outcome.DECLINED:
        payment.status, payment.failure_reason, payment.charge_id = Payment.DECLINED, result.reason, result.charge_id
        payment.action, payment.due_at = Payment.NONE, None
        payment.version += 1
        return PaymentDeclined(**event_ids, aggregate_version=payment.version, reason=result.reason)
    if payment.cancel_requested:
        # any definite answer for the key means nothing was charged under it; no answer may mean it was
        maybe_charged = result.outcome is Outcome.UNAVAILABLE
        return _failed(payment, CANCELLED, action=Payment.REVERSE if maybe_charged else Payment.NONE)
    if result.outcome is Outcome.RETRY:
        payment.processing_errors += 1
        payment.last_error = result.reason
        if payment.processing_errors >= conf("MAX_PROCESSING_ERRORS"):
            return _failed(payment, PROCESSING_ERROR)
        payment.due_at = now + _backoff(payment.processing_errors)
        return None
    if result.outcome is Outcome.UNAVAILABLE:
        _retry_later(payment, now, result.detail)
        return None
    # REJECTED (unknown token, ...) or VOIDED: final, nothing charged
    payment.last_error = result.detail[:300]
    return _failed(payment, result.reason or "GATEWAY_REJECTED")


def _apply_refund(payment: Payment, result: RefundResult, now) -> DomainEvent | None:
    if result.outcome is Outcome.APPROVED:
        payment.status, payment.refund_id = Payment.REFUNDED, result.refund_id
        payment.action, payment.due_at = Payment.NONE, None
        payment.version += 1
        return PaymentRefunded(aggregate_id=str(payment.id), aggregate_version=payment.version,
                               order_id=str(payment.order_id), buyer_id=str(payment.buyer_id),
                               amount=payment.amount, currency=payment.currency)
    if result.outcome is Outcome.UNAVAILABLE:
        _retry_later(payment, now, result.detail)
        return None
    log.error("payments: the gateway refused to refund payment %s (%s); an operator must look", payment.id,
              result.detail)
    payment.action, payment.due_at, payment.last_error = Payment.NONE, None, f"refund refused: {result.detail}"[:300]
    return None


def _apply_reversal(payment: Payment, result: ReversalResult, now) -> None:
    if result.outcome is Outcome.APPROVED:
        payment.action, payment.due_at = Payment.NONE, None
        if result.reversed_charge_id:
            log.warning("payments: payment %s had been charged (%s) before it failed; the charge was reversed",
                        payment.id, result.reversed_charge_id)
            payment.last_error = f"reversed charge {result.reversed_charge_id}"[:300]
    else:
        _retry_later(payment, now, result.detail)


# The recorder's row: just the columns it reads and writes, without building model instances (the
# ORM's select + bulk_update cost about 1.5 ms of CPU per payment, more than the gateway call).
_ROW_COLUMNS = ("id", "order_id", "buyer_id", "amount", "currency", "status", "failure_reason", "version", "action",
                "due_at", "lease_token", "processing_errors", "unavailable_streak", "cancel_requested", "charge_id",
                "refund_id", "last_error")
_SELECT_ROWS = f"SELECT {', '.join(_ROW_COLUMNS)} FROM payments_payment WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
_WRITTEN = ("id", "status", "failure_reason", "version", "action", "due_at", "processing_errors",
            "unavailable_streak", "charge_id", "refund_id", "last_error")
_UPDATE_ROWS = """
UPDATE payments_payment AS p SET status = v.status, failure_reason = v.failure_reason, version = v.version,
    action = v.action, due_at = v.due_at, processing_errors = v.processing_errors,
    unavailable_streak = v.unavailable_streak, charge_id = v.charge_id, refund_id = v.refund_id,
    last_error = v.last_error, lease_until = NULL, lease_token = NULL, updated_at = now()
FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::int[], %s::text[], %s::timestamptz[], %s::int[], %s::int[],
            %s::text[], %s::text[], %s::text[])
    AS v(id, status, failure_reason, version, action, due_at, processing_errors, unavailable_streak, charge_id,
         refund_id, last_error)
WHERE p.id = v.id
"""


class _Row:
    """A payment as the recorder sees it; the ``_apply_*`` rules work on it as on a model."""

    __slots__ = (*_ROW_COLUMNS, "updated_at")

    def __init__(self, values):
        for name, value in zip(_ROW_COLUMNS, values, strict=True):
            setattr(self, name, value)


def payment_results_record(results: list[tuple[WorkItem, object]]) -> int:
    """Record the gateway's answers for claimed items in one short transaction, each payment with
    its event. An item whose lease was lost (expired and claimed again) is skipped: the new holder
    calls with the same idempotency key and gets the same answer. Returns the events published.

    The commit does not wait for the WAL flush: lost in a database crash, the items stay claimed
    until their lease ends and are called again with the same idempotency keys."""
    if not results:
        return 0
    now = timezone.now()
    events: list[DomainEvent] = []
    with transaction.atomic(), connection.cursor() as cursor:
        commit_without_flush()
        cursor.execute(_SELECT_ROWS, [[item.payment_id for item, _ in results]])
        by_id = {row[0]: _Row(row) for row in cursor.fetchall()}
        changed = []
        for item, result in results:
            payment = by_id.get(item.payment_id)
            if payment is None or payment.lease_token != item.lease_token or payment.action != item.action:
                continue
            if item.action == Payment.CHARGE:
                event = _apply_charge(payment, result, now) if payment.status == Payment.PENDING else None
            elif item.action == Payment.REFUND:
                event = _apply_refund(payment, result, now)
            else:
                event = _apply_reversal(payment, result, now)
            if getattr(result, "outcome", None) is not Outcome.UNAVAILABLE:
                payment.unavailable_streak = 0
            changed.append(payment)
            if event is not None:
                events.append(event)
        if changed:
            cursor.execute(_UPDATE_ROWS, [[getattr(row, name) for row in changed] for name in _WRITTEN])
        publish_many(events)
    return len(events)


_EXPIRE = """
UPDATE payments_payment SET status = 'FAILED',
    failure_reason = CASE WHEN cancel_requested THEN %s ELSE %s END,
    action = CASE WHEN calls > 0 THEN 'reverse' ELSE '' END,
    due_at = now(), lease_until = NULL, lease_token = NULL, version = version + 1, updated_at = now()
WHERE id IN (
    SELECT id FROM payments_payment
    WHERE status = 'PENDING' AND (deadline_at <= now() OR cancel_requested)
      AND (lease_until IS NULL OR lease_until < now())
    LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING id, order_id, buyer_id, version, failure_reason
"""


def payments_expire(limit: int = 1000) -> int:
    """PENDING payments past their deadline (or cancelled while a call was in flight that never
    came back) become FAILED, with PaymentFailed. Nothing is charged for them afterwards: a
    payment that had calls made owes a reversal instead, which voids its key at the gateway."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_EXPIRE, [CANCELLED, GATEWAY_UNAVAILABLE, limit])
        rows = cursor.fetchall()
        publish_many([
            PaymentFailed(aggregate_id=str(pid), aggregate_version=version, order_id=str(order_id),
                          buyer_id=str(buyer_id), reason=reason)
            for pid, order_id, buyer_id, version, reason in rows])
    return len(rows)
