"""Request and response shapes of the payment endpoints (camelCase, as in the API contract).
The card number is write-only, checked here (Luhn) and never echoed in an error."""
from __future__ import annotations

from rest_framework import serializers

from commerce.payments import cards

EXP_YEAR_MIN, EXP_YEAR_MAX = 2000, 2100
HOLDER_NAME_MAX = 100


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: ``"5"``, ``5.0`` and ``true`` are refused rather than coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def exp_month_field(**kwargs):
    return StrictIntegerField(min_value=1, max_value=12, help_text="1 to 12.", **kwargs)


def exp_year_field(**kwargs):
    return StrictIntegerField(min_value=EXP_YEAR_MIN, max_value=EXP_YEAR_MAX, help_text="Four digits.", **kwargs)


class CardNumberField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=40, write_only=True, **kwargs)

    def to_internal_value(self, data):
        number = cards.normalise_number(super().to_internal_value(data))
        if not cards.luhn_valid(number):
            raise serializers.ValidationError(f"Not a valid card number ({cards.NUMBER_MIN} to {cards.NUMBER_MAX} "
                                              "digits with a correct check digit).")
        return number


def _check_expiry(data: dict) -> dict:
    if cards.is_expired(data["expMonth"], data["expYear"]):
        raise serializers.ValidationError({"expYear": ["The card has expired."]})
    return data


class MethodCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["card"], error_messages={
        "invalid_choice": '"{input}" is not a valid type. Allowed: card.'})
    cardNumber = CardNumberField(help_text="Sent to the gateway once for a token; never stored.")
    expMonth = exp_month_field()
    expYear = exp_year_field()
    holderName = serializers.CharField(max_length=HOLDER_NAME_MAX)

    def validate(self, data):
        return _check_expiry(data)


class MethodUpdateSerializer(serializers.Serializer):
    expMonth = exp_month_field(required=False, source="exp_month")
    expYear = exp_year_field(required=False, source="exp_year")
    holderName = serializers.CharField(max_length=HOLDER_NAME_MAX, required=False, source="holder_name")
    isDefault = serializers.BooleanField(required=False, source="is_default")
    active = serializers.BooleanField(required=False)


class MethodSerializer(serializers.Serializer):
    methodId = serializers.UUIDField(source="id")
    type = serializers.CharField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    expMonth = serializers.IntegerField(source="exp_month")
    expYear = serializers.IntegerField(source="exp_year")
    holderName = serializers.CharField(source="holder_name")
    isDefault = serializers.BooleanField(source="is_default")
    active = serializers.BooleanField()


class ProcessPaymentSerializer(serializers.Serializer):
    orderId = serializers.UUIDField()
    methodId = serializers.UUIDField()


class ProcessAnswerSerializer(serializers.Serializer):
    paymentId = serializers.UUIDField(source="payment_id")
    status = serializers.CharField()


class PaymentSerializer(serializers.Serializer):
    paymentId = serializers.UUIDField(source="id")
    orderId = serializers.UUIDField(source="order_id")
    methodId = serializers.UUIDField(source="method_id")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    status = serializers.CharField(help_text="PENDING, APPROVED, DECLINED, FAILED or REFUNDED.")
    failureReason = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_failureReason(self, payment) -> str | None:  # noqa: N802 (contract field name)
        return payment.failure_reason or None
