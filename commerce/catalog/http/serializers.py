"""Request and response shapes of the catalog endpoints (camelCase, as in the API contract).

The bounds come from ``commerce.catalog.rules``; ``attribute_problems`` is shared with the admin's
product form so that both doors accept exactly the same products.
"""
from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commerce.catalog import rules


def text_problems(value: str) -> list[str]:
    """PostgreSQL cannot store NUL characters or unpaired surrogates, though JSON can carry both
    (DRF's CharField refuses them already; attribute names and values need the same care)."""
    if "\x00" in value:
        return ["Null characters are not allowed."]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return ["Text must be valid Unicode (no unpaired surrogates)."]
    return []


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def attribute_problems(attributes) -> list[str]:
    """What is wrong with a product's ``attributes`` (empty when nothing is): a JSON object of at
    most ``ATTRIBUTES_MAX_KEYS`` names, each value a scalar or a list of scalars, small as JSON."""
    if not isinstance(attributes, dict):
        return [f"Must be a JSON object, not {type(attributes).__name__}."]
    problems = []
    if len(attributes) > rules.ATTRIBUTES_MAX_KEYS:
        problems.append(f"At most {rules.ATTRIBUTES_MAX_KEYS} attributes are allowed.")
    for key, value in attributes.items():
        if not 1 <= len(key) <= rules.ATTRIBUTE_KEY_MAX:
            problems.append(f"Attribute names must be 1 to {rules.ATTRIBUTE_KEY_MAX} characters long.")
        items = value if isinstance(value, list) else [value]
        if not all(_is_scalar(item) for item in items):
            problems.append(f"Attribute {key[:rules.ATTRIBUTE_KEY_MAX]!r} must be a string, number, boolean, "
                            "null or a list of those.")
        for text in [key, *(item for item in items if isinstance(item, str))]:
            problems.extend(text_problems(text))
    if problems:
        return list(dict.fromkeys(problems))
    size = len(json.dumps(attributes, ensure_ascii=False, separators=(",", ":")).encode())
    if size > rules.ATTRIBUTES_MAX_BYTES:
        problems.append(f"Attributes must take at most {rules.ATTRIBUTES_MAX_BYTES} bytes as JSON (got {size}).")
    return problems


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: ``"5"``, ``5.0`` and ``true`` are refused rather than coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def choice_field(what: str, choices: tuple[str, ...], **kwargs) -> serializers.ChoiceField:
    """A choice whose error message lists the allowed values."""
    message = f'"{{input}}" is not a valid {what}. Allowed: {", ".join(choices)}.'
    return serializers.ChoiceField(choices=choices, error_messages={"invalid_choice": message}, **kwargs)


@extend_schema_field({
    "type": "object", "additionalProperties": True,
    "description": f"At most {rules.ATTRIBUTES_MAX_KEYS} names of at most {rules.ATTRIBUTE_KEY_MAX} characters; "
                   f"values are strings, numbers, booleans, null or lists of those; at most "
                   f"{rules.ATTRIBUTES_MAX_BYTES} bytes as JSON.",
})
class AttributesField(serializers.JSONField):
    def to_internal_value(self, data):
        problems = attribute_problems(data)
        if problems:
            raise serializers.ValidationError(problems)
        return data


class ProductWriteSerializer(serializers.Serializer):
    """The fields a seller sets on a product, on create and on (full) update alike."""

    name = serializers.CharField(max_length=rules.NAME_MAX)
    description = serializers.CharField(max_length=rules.DESCRIPTION_MAX, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=rules.PRICE_MIN, max_value=rules.PRICE_MAX,
        help_text="A decimal string such as `\"12900.00\"` (a JSON number is accepted too); at most 2 decimals.",
    )
    currency = choice_field("currency", rules.CURRENCIES, default=rules.DEFAULT_CURRENCY, help_text="ISO 4217 code.")
    category = choice_field("category", rules.CATEGORIES, help_text="One of a fixed list.")
    attributes = AttributesField(default=dict)


class ProductCreateSerializer(ProductWriteSerializer):
    stock = StrictIntegerField(min_value=0, max_value=rules.STOCK_MAX, default=0, help_text="Initial stock on hand.")


class ProductUpdateSerializer(ProductWriteSerializer):
    active = serializers.BooleanField(default=True, help_text="`false` takes the product off sale (reads are 404).")


class ProductSerializer(serializers.Serializer):
    """A product as clients see it; built from ``selectors.ProductView`` (document + stock)."""

    productId = serializers.UUIDField(source="doc.product_id")
    sellerId = serializers.UUIDField(source="doc.seller_id")
    name = serializers.CharField(source="doc.name")
    description = serializers.CharField(source="doc.description")
    price = serializers.DecimalField(source="doc.price", max_digits=14, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField(source="doc.currency")
    category = serializers.CharField(source="doc.category")
    attributes = serializers.DictField(source="doc.attributes")
    available = serializers.IntegerField(help_text="Stock that can still be ordered (on hand minus reserved).")
    version = serializers.IntegerField(source="doc.version", help_text="Increases with every change.")
    createdAt = serializers.DateTimeField(source="doc.created_at")
    updatedAt = serializers.DateTimeField(source="doc.updated_at")


class InventoryChangeSerializer(serializers.Serializer):
    productId = serializers.UUIDField()
    delta = StrictIntegerField(min_value=-rules.STOCK_DELTA_MAX, max_value=rules.STOCK_DELTA_MAX,
                               help_text="Added to the stock on hand; negative takes away. Not zero.")
    reason = serializers.CharField(max_length=rules.REASON_MAX)

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class InventoryCountSerializer(serializers.Serializer):
    productId = serializers.UUIDField(source="product_id")
    available = serializers.IntegerField()
    reserved = serializers.IntegerField()
