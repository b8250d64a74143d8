"""Request and response shapes of the order endpoints (camelCase, as in the API contract)."""
from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from commerce.orders.models import Order


class OrderItemRequestSerializer(serializers.Serializer):
    productId = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1)

    def validate_quantity(self, value: int) -> int:
        if value > settings.ORDERS["MAX_QUANTITY"]:
            raise serializers.ValidationError(f"At most {settings.ORDERS['MAX_QUANTITY']} of one product per order.")
        return value


class OrderPlaceSerializer(serializers.Serializer):
    items = OrderItemRequestSerializer(many=True)
    paymentMethodId = serializers.CharField(max_length=64)
    addressId = serializers.CharField(max_length=64)

    def validate_items(self, items: list[dict]) -> list[dict]:
        if not items:
            raise serializers.ValidationError("An order needs at least one line.")
        if len(items) > settings.ORDERS["MAX_LINES"]:
            raise serializers.ValidationError(f"At most {settings.ORDERS['MAX_LINES']} lines per order.")
        ids = [item["productId"] for item in items]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each product may appear once; set its quantity instead.")
        return items


class OrderItemSerializer(serializers.Serializer):
    productId = serializers.UUIDField()
    name = serializers.CharField()
    unitPrice = serializers.DecimalField(max_digits=14, decimal_places=2)
    quantity = serializers.IntegerField()


class OrderSerializer(serializers.Serializer):
    """Documentation of ``order_json``'s shape (the views build the dict directly: it is cheaper)."""

    orderId = serializers.UUIDField()
    status = serializers.ChoiceField(choices=[s for s, _ in Order.STATUSES])
    items = OrderItemSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    paymentId = serializers.CharField(allow_null=True)
    paymentStatus = serializers.CharField(allow_null=True)
    deliveryId = serializers.CharField(allow_null=True)
    deliveryStatus = serializers.CharField(allow_null=True)
    failureReason = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


def order_json(order: Order) -> dict:
    return {
        "orderId": str(order.id),
        "status": order.status,
        "items": order.items,
        "total": str(order.total),
        "currency": order.currency,
        "paymentId": order.payment_id or None,
        "paymentStatus": order.payment_status or None,
        "deliveryId": order.delivery_id or None,
        "deliveryStatus": order.delivery_status or None,
        "failureReason": order.failure_reason or None,
        "createdAt": order.created_at.isoformat().replace("+00:00", "Z"),
        "updatedAt": order.updated_at.isoformat().replace("+00:00", "Z"),
    }
