"""The payments tables: payment methods (gateway tokens, never card numbers), the payment requests
orders sent, the payments (one row per attempt) and the Idempotency-Keys of process-payment.

Other contexts' things (members, orders) are plain UUID columns, never foreign keys.
"""
from django.db import models
from django.db.models.functions import Now

from commerce.eventbus.event import uuid7


class PaymentMethod(models.Model):
    """A buyer's card, as the gateway's token plus what may be shown (brand, last4, expiry)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    member_id = models.UUIDField()
    type = models.CharField(max_length=20, default="card")
    gateway_token = models.CharField(max_length=200)
    brand = models.CharField(max_length=30)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    holder_name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "payments_method"
        indexes = [models.Index(fields=["member_id", "-created_at", "-id"], name="payments_method_member")]
        constraints = [
            models.UniqueConstraint(fields=["member_id"], condition=models.Q(is_default=True),
                                    name="payments_method_one_default"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ...{self.last4}"


class PaymentRequest(models.Model):
    """What orders asked for (``OrderPaymentRequested``): the only way payments knows an order."""

    order_id = models.UUIDField(primary_key=True)
    buyer_id = models.UUIDField()
    method_id = models.UUIDField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    request_version = models.BigIntegerField(default=0)
    # a refund was requested for this order: no new attempts through process-payment
    closed = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "payments_request"

    def __str__(self) -> str:
        return f"request for order {self.order_id}"


class Payment(models.Model):
    """One attempt to charge an order. ``action`` is the gateway call still owed for it (charge,
    refund or reversal), due at ``due_at``; a processor holds it while ``lease_until`` is ahead."""

    PENDING, APPROVED, DECLINED, FAILED, REFUNDED = "PENDING", "APPROVED", "DECLINED", "FAILED", "REFUNDED"
    STATUSES = [(s, s) for s in (PENDING, APPROVED, DECLINED, FAILED, REFUNDED)]
    CHARGE, REFUND, REVERSE, NONE = "charge", "refund", "reverse", ""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    order_id = models.UUIDField()
    attempt = models.PositiveIntegerField(default=1)
    buyer_id = models.UUIDField()
    method_id = models.UUIDField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    failure_reason = models.CharField(max_length=40, blank=True, default="")
    version = models.PositiveIntegerField(default=1)  # aggregate_version of its events
    deadline_at = models.DateTimeField()  # still PENDING then: FAILED (GATEWAY_UNAVAILABLE)

    action = models.CharField(max_length=10, blank=True, default=CHARGE)
    due_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    calls = models.PositiveIntegerField(default=0)  # gateway calls made for this payment
    processing_errors = models.PositiveIntegerField(default=0)
    unavailable_streak = models.PositiveIntegerField(default=0)  # for the backoff
    cancel_requested = models.BooleanField(default=False)
    charge_id = models.CharField(max_length=100, blank=True, default="")
    refund_id = models.CharField(max_length=100, blank=True, default="")
    last_error = models.CharField(max_length=300, blank=True, default="")

    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "payments_payment"
        indexes = [
            # the processors' work list: only rows that still owe a gateway call
            models.Index(fields=["due_at"], name="payments_payment_due", condition=~models.Q(action="")),
            # the deadline sweep: only PENDING rows
            models.Index(fields=["deadline_at"], name="payments_payment_deadline",
                         condition=models.Q(status="PENDING")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "attempt"], name="payments_payment_order_attempt"),
        ]

    def __str__(self) -> str:
        return f"payment {self.id} ({self.status})"

    @property
    def gateway_key(self) -> str:
        """The charge's idempotency key: one per payment (attempt), the same on every retry."""
        return f"payment-{self.id}"


class PaymentIdempotencyKey(models.Model):
    """An ``Idempotency-Key`` of process-payment, scoped to the member."""

    member_id = models.UUIDField()
    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "payments_idempotency_key"
        constraints = [models.UniqueConstraint(fields=["member_id", "key"], name="payments_idempotency_key_once")]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.key}"
