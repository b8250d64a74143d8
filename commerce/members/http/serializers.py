"""Request and response shapes of the member endpoints (camelCase, as in the API contract)."""
from __future__ import annotations

from rest_framework import serializers

from commerce.members.models import Role

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256  # hashing cost must stay bounded


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False,
        write_only=True, style={"input_type": "password"}, **kwargs,
    )


class MemberRegistrationSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field(help_text=f"At least {PASSWORD_MIN_LENGTH} characters.")
    name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.values)


class MemberLoginSerializer(serializers.Serializer):
    # no format rules here: any wrong input is just wrong credentials (401), like a wrong password
    email = serializers.CharField(max_length=254, trim_whitespace=False)
    password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True,
                                     style={"input_type": "password"})


class LoginTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    userId = serializers.UUIDField(source="member_id")
    expiresAt = serializers.DateTimeField(source="expires_at")


class MemberUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    password = password_field(required=False, help_text="New password; needs `currentPassword`.")
    currentPassword = serializers.CharField(
        max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, write_only=True, required=False,
        style={"input_type": "password"},
    )


class MemberSerializer(serializers.Serializer):
    userId = serializers.UUIDField(source="id", read_only=True)
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)
    role = serializers.ChoiceField(choices=Role.values, read_only=True)
