"""Django admin for payments: read-only views for staff with the model permissions (superusers).
Nothing is changed here: payments move only through their services, with their events. The
gateway token is not shown."""
from django.contrib import admin

from commerce.payments.models import Payment, PaymentMethod
from commerce.shared.admin import ReadOnlyAdmin


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_id", "attempt", "amount", "currency", "status", "failure_reason", "action", "calls",
                    "created_at", "updated_at"]
    list_filter = ["status", "failure_reason", "action"]
    search_fields = ["=id", "=order_id", "=buyer_id", "charge_id"]
    ordering = ["-created_at"]
    exclude = ["lease_token"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ["id", "member_id", "brand", "last4", "exp_month", "exp_year", "is_default", "active", "created_at"]
    list_filter = ["brand", "active"]
    search_fields = ["=id", "=member_id"]
    ordering = ["-created_at"]
    exclude = ["gateway_token"]
