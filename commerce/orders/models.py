"""The orders context's table: one row per order, its lines inside it.

An order is one aggregate that is always read and written whole (placing it, every saga step,
reading it back), so its lines are a JSON list on the row instead of a second table: placing an
order is one INSERT plus its outbox row, and reading one is one index lookup. Lines are never
queried on their own; stock per product lives in the catalog.

Payment and delivery status are the orders context's own read model, kept from the events of
those contexts, so reading an order touches no other context.
"""
from django.db import models
from django.db.models import Q

from commerce.eventbus.event import uuid7


class Order(models.Model):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    STATUSES = [(s, s) for s in (PENDING, CONFIRMED, COMPLETED, FAILED, CANCELLED)]
    TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})

    # What the catalog answered about stock ("" until it answers).
    STOCK_RESERVED = "RESERVED"
    STOCK_REJECTED = "REJECTED"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)  # time-ordered
    buyer_id = models.UUIDField()
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    failure_reason = models.CharField(max_length=20, blank=True, default="")
    # [{"productId", "name", "unitPrice" (string), "quantity"}], snapshotted when placed
    items = models.JSONField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    payment_method_id = models.CharField(max_length=64)
    address_id = models.CharField(max_length=64)
    address = models.JSONField()  # the delivery address as it was when the order was placed

    stock_status = models.CharField(max_length=10, blank=True, default="")
    payment_id = models.CharField(max_length=64, blank=True, default="")
    payment_status = models.CharField(max_length=10, blank=True, default="")
    delivery_id = models.CharField(max_length=64, blank=True, default="")
    delivery_status = models.CharField(max_length=12, blank=True, default="")
    delivery_version = models.BigIntegerField(default=0)

    version = models.IntegerField(default=1)
    # When the saga step the order waits for is overdue (PENDING orders only): see saga.py.
    deadline_at = models.DateTimeField(null=True, blank=True)
    stall_retries = models.SmallIntegerField(default=0)

    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "orders_order"
        indexes = [
            models.Index(fields=["buyer_id", "-created_at", "-id"], name="orders_by_buyer"),
            models.Index(fields=["deadline_at"], name="orders_pending_deadline", condition=Q(status="PENDING")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["buyer_id", "idempotency_key"], name="orders_idempotency_key",
                                    condition=Q(idempotency_key__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"
