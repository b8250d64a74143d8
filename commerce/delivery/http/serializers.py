"""Request and response shapes of the delivery endpoints (camelCase, as in the API contract)."""
from __future__ import annotations

import re

from rest_framework import serializers

from commerce.delivery.countries import ISO_3166_ALPHA2

PHONE = re.compile(r"\+?[0-9]{7,15}")  # E.164: at most 15 digits; no spaces or separators
POSTAL_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z -]{0,18}[0-9A-Za-z]|[0-9A-Za-z]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if CONTROL.search(value):
        raise serializers.ValidationError("Control characters (tabs, line breaks, ...) are not allowed.")
    return value


class AddressCreateSerializer(serializers.Serializer):
    recipient = serializers.CharField(max_length=100, validators=[_no_control_characters])
    phone = serializers.CharField(max_length=16, help_text="Digits with an optional leading `+`, 7 to 15 digits.")
    line1 = serializers.CharField(max_length=200, validators=[_no_control_characters])
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                  validators=[_no_control_characters])
    city = serializers.CharField(max_length=100, validators=[_no_control_characters])
    postalCode = serializers.CharField(max_length=20, help_text="Letters, digits, spaces and hyphens.")  # noqa: N815
    country = serializers.CharField(max_length=2, min_length=2, help_text="ISO 3166-1 alpha-2, e.g. `KR`.")

    def validate_phone(self, value: str) -> str:
        if not PHONE.fullmatch(value):
            raise serializers.ValidationError("Use digits only, with an optional leading +, 7 to 15 digits.")
        return value

    def validate_postalCode(self, value: str) -> str:  # noqa: N802
        if not POSTAL_CODE.fullmatch(value):
            raise serializers.ValidationError("Use letters, digits, spaces and hyphens only.")
        return value

    def validate_country(self, value: str) -> str:
        code = value.upper()
        if code not in ISO_3166_ALPHA2:
            raise serializers.ValidationError(f'"{value}" is not an ISO 3166-1 alpha-2 country code (e.g. KR, US).')
        return code


class AddressSerializer(serializers.Serializer):
    addressId = serializers.UUIDField(source="id")  # noqa: N815
    recipient = serializers.CharField()
    phone = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    postalCode = serializers.CharField(source="postal_code")  # noqa: N815
    country = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815


class ProcessDeliverySerializer(serializers.Serializer):
    orderId = serializers.UUIDField()  # noqa: N815


class HistoryEntrySerializer(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    deliveryId = serializers.UUIDField(source="id")  # noqa: N815
    orderId = serializers.UUIDField(source="order_id")  # noqa: N815
    status = serializers.CharField(help_text="`REQUESTED`, `SHIPPED`, `IN_TRANSIT`, `DELIVERED` or `FAILED`.")
    trackingNumber = serializers.CharField(source="tracking_number", allow_null=True)  # noqa: N815
    failureReason = serializers.CharField(source="failure_reason", allow_null=True)  # noqa: N815
    history = HistoryEntrySerializer(many=True, source="history_rows")
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["trackingNumber"] = data["trackingNumber"] or None
        data["failureReason"] = data["failureReason"] or None
        return data


class WebhookAnswerSerializer(serializers.Serializer):
    eventId = serializers.CharField()  # noqa: N815
    outcome = serializers.CharField(help_text="`applied`, `stale`, `duplicate`, `unknown_delivery` or `ignored`.")
