"""The delivery context's tables: buyers' addresses, deliveries with their status history, the
carrier notifications already seen (deduplication) and the order cancellations received.

Other contexts' things (members, orders) are plain UUID columns, never foreign keys.
"""
from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models.functions import Now

from commerce.eventbus.event import uuid7


class Address(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField()  # the member (buyer) it belongs to
    recipient = models.CharField(max_length=100)
    phone = models.CharField(max_length=16)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2, upper case
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "delivery_address"
        indexes = [models.Index(fields=["owner_id", "-created_at", "-id"], name="delivery_address_by_owner")]

    def __str__(self) -> str:
        return f"{self.recipient}, {self.city} ({self.country})"


class DeliveryStatus(models.TextChoices):
    REQUESTED = "REQUESTED"
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class CarrierTodo(models.TextChoices):
    """What the shop still has to tell the carrier about a delivery (done outside transactions)."""

    NOTHING = ""
    SEND = "send"
    CANCEL = "cancel"


class Delivery(models.Model):
    # also the carrier shipment key; time-ordered, so that the inserts into its index and its history's
    # land on the index's last pages instead of on random ones (each a full page in the WAL)
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    order_id = models.UUIDField(unique=True)  # one delivery per order
    buyer_id = models.UUIDField()
    address = models.JSONField()  # the snapshot the order took (delivery.api.address_snapshot)
    lines = models.JSONField(default=list)  # [{"productId", "quantity"}]
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    version = models.PositiveIntegerField(default=1)  # DeliveryStatusChanged.aggregate_version
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    failure_reason = models.CharField(max_length=200, blank=True, default="")
    # outbound work for the carrier, claimed by the delivery worker (commerce/delivery/carrier_sync.py)
    carrier_todo = models.CharField(max_length=8, choices=CarrierTodo.choices, blank=True, default="")
    carrier_due_at = models.DateTimeField(null=True, blank=True)
    carrier_attempts = models.PositiveIntegerField(default=0)
    carrier_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "delivery_delivery"
        indexes = [
            # the worker's work list stays tiny however many deliveries there are
            models.Index(fields=["carrier_due_at"], name="delivery_carrier_work",
                         condition=~models.Q(carrier_todo="")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=DeliveryStatus.values), name="delivery_status_valid"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} of order {self.order_id}: {self.status}"


class StatusChange(models.Model):
    """The history of a delivery: one row per status it took, in order."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices)
    at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, default="")
    carrier_event_id = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        db_table = "delivery_status_change"
        indexes = [models.Index(fields=["delivery", "id"], name="delivery_history_order")]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status} at {self.at}"


class CarrierEvent(models.Model):
    """Every carrier notification taken in (by the carrier's event id), and what it did: a
    repeat finds its row and changes nothing."""

    APPLIED, STALE, UNKNOWN = "applied", "stale", "unknown_delivery"

    event_id = models.CharField(max_length=100, primary_key=True)
    delivery_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=12)
    outcome = models.CharField(max_length=20)
    received_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "delivery_carrier_event"
        # pruning by age (services.carrier_events_prune): rows arrive in received_at order
        indexes = [BrinIndex(fields=["received_at"], name="delivery_carrier_event_brin")]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.status} ({self.outcome})"


class OrderCancellation(models.Model):
    """An ``OrderCancelled`` received, and what it did to the order's delivery."""

    CANCELLED, TOO_LATE, NO_DELIVERY, ALREADY_FINAL = "cancelled", "too_late", "no_delivery", "already_final"

    order_id = models.UUIDField(primary_key=True)
    reason = models.CharField(max_length=200, blank=True, default="")
    outcome = models.CharField(max_length=20)
    received_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "delivery_order_cancellation"

    def __str__(self) -> str:
        return f"order {self.order_id} cancelled: {self.outcome}"
