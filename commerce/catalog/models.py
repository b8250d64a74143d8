"""The catalog's PostgreSQL tables.

- ``Product``: the product's identity, owner and current version: the authority for ownership
  and for handing out versions, whatever store keeps the documents.
- ``ProductDocument``: the PostgreSQL product store (the documents themselves); Cassandra can
  take this role instead (see ``store.py``).
- ``Stock``, ``StockMovement``: stock per product and its ledger.
- ``OrderStock``, ``Reservation``: what each order holds, driven by order events.
- ``StockRequest``: idempotency keys of stock changes made over HTTP.

And, at the end, the two Cassandra tables of the Cassandra product store.
"""
import uuid

from cassandra.cqlengine import columns
from django.db import models
from django.db.models.functions import Now
from django_cassandra_engine.models import DjangoCassandraModel


class Product(models.Model):
    """A product's identity and its current **offer**: the name, price and currency an order
    copies and whether it is on sale. The offer is written in the same transaction as the version
    (and the ``ProductChanged`` event), so an order placed after a price change's commit always
    sees the new price, whatever store keeps the full documents; and placing an order reads one
    PostgreSQL row per product instead of the document store."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller_id = models.UUIDField(db_index=True)
    version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())
    name = models.CharField(max_length=200, db_default="")
    price = models.DecimalField(max_digits=14, decimal_places=2, db_default=0)
    currency = models.CharField(max_length=3, db_default="KRW")
    active = models.BooleanField(db_default=False)  # rows written without an offer are not for sale

    class Meta:
        db_table = "catalog_product"

    def __str__(self) -> str:
        return str(self.id)


class ProductDocument(models.Model):
    """A product as clients see it (minus stock). Written only through the product store."""

    product_id = models.UUIDField(primary_key=True)
    seller_id = models.UUIDField()
    name = models.CharField(max_length=200)
    description = models.TextField()
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    category = models.CharField(max_length=40)
    attributes = models.JSONField(default=dict)
    active = models.BooleanField(default=True)
    version = models.BigIntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "catalog_product_document"
        indexes = [models.Index(fields=["seller_id", "-created_at", "-product_id"], name="catalog_doc_by_seller")]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    product_id = models.UUIDField(primary_key=True)
    seller_id = models.UUIDField()
    on_hand = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "catalog_stock"
        constraints = [
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="catalog_stock_reserved_not_negative"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=models.F("reserved")),
                                   name="catalog_stock_available_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """The ledger: every change of on-hand or reserved stock, who made it, why and for what."""

    ADJUST, RESERVE, RELEASE, SELL = "adjust", "reserve", "release", "sell"
    KINDS = [(k, k) for k in (ADJUST, RESERVE, RELEASE, SELL)]

    id = models.BigAutoField(primary_key=True)
    product_id = models.UUIDField()
    kind = models.CharField(max_length=10, choices=KINDS)
    on_hand_delta = models.BigIntegerField(default=0)
    reserved_delta = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True, default="")
    actor_id = models.UUIDField(null=True, blank=True)  # the member who changed it, if a person did
    order_id = models.UUIDField(null=True, blank=True)
    request_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "catalog_stock_movement"
        indexes = [models.Index(fields=["product_id", "id"], name="catalog_movement_by_product")]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id} ({self.on_hand_delta:+}/{self.reserved_delta:+})"


class OrderStock(models.Model):
    """What stock one order holds. A row made by a release that arrived before the order's
    reservation (``RELEASED`` with no reservation) makes the late reservation a no-op."""

    RESERVED, REJECTED, RELEASED, SOLD = "RESERVED", "REJECTED", "RELEASED", "SOLD"
    STATUSES = [(s, s) for s in (RESERVED, REJECTED, RELEASED, SOLD)]

    order_id = models.UUIDField(primary_key=True)
    status = models.CharField(max_length=10, choices=STATUSES)
    short_product_id = models.UUIDField(null=True, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "catalog_order_stock"

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.status}"


class Reservation(models.Model):
    id = models.BigAutoField(primary_key=True)
    order_id = models.UUIDField()
    product_id = models.UUIDField()
    quantity = models.PositiveIntegerField()

    class Meta:
        db_table = "catalog_reservation"
        constraints = [models.UniqueConstraint(fields=["order_id", "product_id"], name="catalog_reservation_once")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id} for {self.order_id}"


class StockRequest(models.Model):
    """An ``Idempotency-Key`` of ``change-inventory-count``, scoped to the member."""

    member_id = models.UUIDField()
    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "catalog_stock_request"
        constraints = [models.UniqueConstraint(fields=["member_id", "key"], name="catalog_stock_request_once")]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.key}"


# --- Cassandra tables of the Cassandra product store (created by `manage.py sync_cassandra`) ---
# Times are microseconds since the epoch (bigint): CQL timestamps keep only milliseconds.


class CassandraProduct(DjangoCassandraModel):
    """products_by_id: one partition per product; every write carries USING TIMESTAMP <version>."""

    __table_name__ = "products_by_id"

    product_id = columns.UUID(primary_key=True)
    seller_id = columns.UUID()
    name = columns.Text()
    description = columns.Text()
    price = columns.Decimal()
    currency = columns.Text()
    category = columns.Text()
    attributes = columns.Text()  # JSON: a CQL map would lose the values' types
    active = columns.Boolean()
    version = columns.BigInt()
    created_at_us = columns.BigInt()
    updated_at_us = columns.BigInt()

    class Meta:
        get_pk_field = "product_id"


class CassandraProductBySeller(DjangoCassandraModel):
    """products_by_seller: a seller's products, newest first (written once, at creation)."""

    __table_name__ = "products_by_seller"

    seller_id = columns.UUID(partition_key=True)
    created_at_us = columns.BigInt(primary_key=True, clustering_order="DESC")
    product_id = columns.UUID(primary_key=True, clustering_order="DESC")

    class Meta:
        get_pk_field = "seller_id"
